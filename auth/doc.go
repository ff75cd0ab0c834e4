// Package auth holds the security logic of users, merchants' API keys and
// two-factor authentication, with no I/O: hashing and checking passwords,
// TOTP enrolment and verification, recovery codes, API keys and their
// scopes, session and CSRF tokens, and the Guard that demands a second
// factor before sensitive actions. Storage and HTTP packages call it; it
// depends on nothing but the standard library, golang.org/x/crypto,
// golang.org/x/text and github.com/pquerna/otp.
//
// # Passwords: argon2id
//
// Passwords are chosen by people and have little entropy, so an attacker
// holding the users table can guess offline; the only defence is making
// each guess expensive. Argon2id (RFC 9106) is memory-hard, so a guess
// costs memory as well as time, which is what GPUs and ASICs lack.
// DefaultParams are RFC 9106's second recommended option (64 MiB, t=3) with
// p=2: about a tenth of a second per login on a server core, and 64 MiB
// per concurrent login, which the login rate limit bounds. Hashes are kept
// in the PHC string format with their parameters, so parameters can rise
// later: VerifyPassword reports needsRehash and the caller re-hashes on the
// next successful login. Stored parameters are parsed strictly and capped
// (memory at most 1 GiB, t at most 10, p at most 16) so a corrupted or
// planted hash cannot make logins a denial of service.
//
// # High-entropy tokens: SHA-256
//
// Session tokens (256 bits), API keys (256 bits in the secret part) and
// recovery codes (60 bits) are random, not chosen. Guessing one from its
// hash is hopeless however fast the hash, so they are stored as unsalted
// SHA-256, which lets storage look them up by hash (sessions) or by a clear
// prefix (API keys) without running a slow KDF on every request. A leaked
// table still gives no usable credential.
//
// # TOTP
//
// RFC 6238 with SHA-1, six digits and 30-second steps, which every
// authenticator app understands. A code is accepted for its own step and
// one step either side, and the step is recorded with a compare-and-set so
// that a code is accepted once, even under concurrent requests.
//
// # Comparisons and messages
//
// Every comparison of a secret against an expected value uses
// crypto/subtle, and lookups over lists (recovery codes, TOTP window) do
// the same work whether or not and wherever they match, so timing reveals
// nothing. Errors are *chengdui.Error; their messages never contain a
// password, key, token, code or TOTP secret, nor say which of several
// checks refused a second-factor code. Enrolment, the one value that holds
// a secret in fields, redacts them in String, GoString and LogValue.
// Callers must still rate-limit failed logins and second-factor attempts:
// nothing here counts attempts.
package auth
