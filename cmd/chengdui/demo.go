package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"chengdui"
	"chengdui/invoice"
	"chengdui/wallet"
)

// demoUser is a dev login. Its password is random, made on the first start
// and kept in the data directory (mode 0600) so every start can print it:
// a developer's machine, a demo account, not a secret of the platform.
type demoUser struct {
	Role, Email, Password string
}

type demoUsers struct {
	Payer, Merchant demoUser
}

const demoCredentialsFile = "demo-credentials.txt"

// seedDemoUsers creates, once, a demo payer with deposits in their wallet
// and a demo merchant with a store, and returns their credentials. It does
// nothing without the user services.
func seedDemoUsers(ctx context.Context, svcs services, dataDir string) (*demoUsers, error) {
	if svcs.Wallets == nil || svcs.Merchants == nil {
		return nil, nil
	}
	path := filepath.Join(dataDir, demoCredentialsFile)
	d, err := readDemoUsers(path)
	if err == nil {
		return d, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	d = &demoUsers{Payer: demoUser{Role: "payer", Email: "demo-payer@example.com"}, Merchant: demoUser{Role: "merchant", Email: "demo-merchant@example.com"}}
	for _, u := range []*demoUser{&d.Payer, &d.Merchant} {
		b := make([]byte, 9)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		u.Password = "demo-" + hex.EncodeToString(b)
	}
	payer, err := svcs.Wallets.Register(ctx, d.Payer.Email, d.Payer.Password)
	if err != nil {
		return nil, fmt.Errorf("demo payer: %w (delete %s to start over)", err, dataDir)
	}
	merchant, err := svcs.Wallets.Register(ctx, d.Merchant.Email, d.Merchant.Password)
	if err != nil {
		return nil, fmt.Errorf("demo merchant: %w", err)
	}
	if _, err := svcs.Merchants.CreateStore(ctx, merchant.ID, "Demo Teahouse 茶馆", "CNY"); err != nil {
		return nil, err
	}
	// The payer's demo balances, granted by dev (no chain holds them, so
	// they do not come from the chain accounts).
	deposits := map[string]string{"BTC": "0.25", "USDT-ERC20": "500", "ETH": "0.5"}
	for asset, amount := range deposits {
		a, err := svcs.Ledger.Account(ctx, wallet.AccountID(payer.ID, asset))
		if err != nil {
			return nil, err
		}
		dec := uint8(8)
		switch asset {
		case "USDT-ERC20":
			dec = 6
		case "ETH":
			dec = 18
		}
		amt, err := chengdui.ParseDecimal(amount, dec)
		if err != nil {
			return nil, err
		}
		res, err := svcs.Ledger.CreateTransfers(ctx, []chengdui.Transfer{{ID: "demo:payer-deposit:" + asset,
			DebitAccountID: devGrant(asset), CreditAccountID: a.ID, Amount: amt, Code: 1,
			Metadata: map[string]string{"kind": "dev grant", "demo": "true"}}})
		if err != nil {
			return nil, err
		}
		if res[0].Err != nil {
			return nil, res[0].Err
		}
	}
	var b strings.Builder
	fmt.Fprintln(&b, "# Demo logins of this dev data directory (chengdui dev). Not for production.")
	for _, u := range []demoUser{d.Payer, d.Merchant} {
		fmt.Fprintf(&b, "%s %s %s\n", u.Role, u.Email, u.Password)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	return d, nil
}

func readDemoUsers(path string) (*demoUsers, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d := &demoUsers{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		u := demoUser{Role: fields[0], Email: fields[1], Password: fields[2]}
		switch u.Role {
		case "payer":
			d.Payer = u
		case "merchant":
			d.Merchant = u
		}
	}
	if d.Payer.Email == "" || d.Merchant.Email == "" {
		return nil, fmt.Errorf("%s is damaged: delete the data directory to start over", path)
	}
	return d, sc.Err()
}

// seedDemoInvoice makes a fresh demo invoice of the demo merchant's store
// at every start (an hour to pay, so a newcomer has time), and returns its
// id; "" when there is no demo merchant.
func seedDemoInvoice(ctx context.Context, svcs services, d *demoUsers) (string, error) {
	users, ok := svcs.DB.(wallet.Store)
	if d == nil || svcs.Invoices == nil || !ok {
		return "", nil
	}
	m, err := users.UserByEmail(ctx, d.Merchant.Email)
	if err != nil {
		return "", err
	}
	stores, err := svcs.Merchants.Stores(ctx, m.ID)
	if err != nil || len(stores) == 0 {
		return "", err
	}
	inv, err := svcs.Invoices.Create(ctx, invoice.CreateRequest{StoreID: stores[0].ID, Amount: "88.00", Currency: "CNY",
		Metadata:          []byte(`{"orderId":"demo-` + time.Now().UTC().Format("20060102-150405") + `","itemDesc":"Pu'er tea 普洱茶 250 g"}`),
		ExpirationMinutes: 60})
	if err != nil {
		return "", err
	}
	return inv.ID, nil
}
