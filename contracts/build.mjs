// Compiles contracts/src/*.sol with the pinned solc (package.json) and
// generates the Go bindings with abigen, the pinned go tool.
//
//   node build.mjs           write artifacts/<Name>.abi, .bin and <name>.go
//   node build.mjs --check   generate into a temp dir; exit 1 naming every
//                            file that differs from the one in contracts/
//
// make contracts and make contracts-check run it. The output depends only on
// the sources and the pinned versions: no paths, dates or hosts end up in it.
// GO names the go command (default go), as in the Makefile.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

const SOLC_VERSION = "0.8.37";
// Prague: the latest fork whose opcodes every chain we target has, and one
// the simulated backend (mainnet's schedule up to Osaka) runs.
const EVM_VERSION = "prague";
const GO_PACKAGE = "contracts";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const srcDir = path.join(here, "src");

function fail(msg) {
  console.error(`contracts: ${msg}`);
  process.exit(1);
}

// PaymentRouter -> payment_router.go
function goFile(name) {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/([A-Z])([A-Z][a-z])/g, "$1_$2").toLowerCase() + ".go";
}

function compile() {
  if (!solc.version().startsWith(SOLC_VERSION + "+")) {
    fail(`solc is ${solc.version()}, want ${SOLC_VERSION}: run npm ci in contracts/`);
  }
  const sources = {};
  for (const f of fs.readdirSync(srcDir).filter((f) => f.endsWith(".sol")).sort()) {
    sources[`src/${f}`] = { content: fs.readFileSync(path.join(srcDir, f), "utf8") };
  }
  const input = {
    language: "Solidity",
    sources,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: EVM_VERSION,
      viaIR: false,
      metadata: { bytecodeHash: "ipfs" },
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const problems = output.errors ?? [];
  for (const e of problems) console.error(e.formattedMessage ?? e.message);
  // Warnings fail the build too: a contract that moves money compiles clean.
  if (problems.length > 0) fail(`solc reported ${problems.length} problem(s)`);

  const contracts = new Map();
  for (const file of Object.keys(output.contracts).sort()) {
    for (const [name, c] of Object.entries(output.contracts[file])) {
      if (c.evm.bytecode.object === "") continue; // interfaces and abstract contracts
      if (contracts.has(name)) fail(`two contracts are named ${name}`);
      contracts.set(name, { abi: c.abi, bin: c.evm.bytecode.object });
    }
  }
  return new Map([...contracts].sort(([a], [b]) => (a < b ? -1 : 1)));
}

// generate writes every output file under dir and returns their paths
// relative to it.
function generate(dir, contracts) {
  fs.mkdirSync(path.join(dir, "artifacts"), { recursive: true });
  const files = [];
  for (const [name, c] of contracts) {
    const abi = path.join("artifacts", `${name}.abi`);
    const bin = path.join("artifacts", `${name}.bin`);
    fs.writeFileSync(path.join(dir, abi), JSON.stringify(c.abi, null, 2) + "\n");
    // No newline: abigen pastes the file into a Go string as it is.
    fs.writeFileSync(path.join(dir, bin), c.bin);
    const out = goFile(name);
    execFileSync(
      process.env.GO || "go",
      ["tool", "abigen", "--abi", path.join(dir, abi), "--bin", path.join(dir, bin), "--pkg", GO_PACKAGE, "--type", name, "--out", path.join(dir, out)],
      { cwd: root, stdio: "inherit" },
    );
    files.push(abi, bin, out);
  }
  return files;
}

// committed lists the generated files in contracts/: the artifacts and the
// Go files abigen marked as generated.
function committed() {
  const files = [];
  const artifacts = path.join(here, "artifacts");
  if (fs.existsSync(artifacts)) {
    for (const f of fs.readdirSync(artifacts)) files.push(path.join("artifacts", f));
  }
  for (const f of fs.readdirSync(here)) {
    if (f.endsWith(".go") && fs.readFileSync(path.join(here, f), "utf8").startsWith("// Code generated - DO NOT EDIT.")) {
      files.push(f);
    }
  }
  return files;
}

if (process.argv.includes("--check")) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "chengdui-contracts-"));
  try {
    const fresh = generate(tmp, compile());
    const stale = [];
    for (const f of fresh) {
      const mine = path.join(here, f);
      if (!fs.existsSync(mine) || !fs.readFileSync(mine).equals(fs.readFileSync(path.join(tmp, f)))) stale.push(f);
    }
    for (const f of committed()) if (!fresh.includes(f)) stale.push(`${f} (no longer generated)`);
    if (stale.length > 0) {
      fail(`generated files differ from contracts/src; run make contracts and commit:\n  ${stale.map((f) => "contracts/" + f).join("\n  ")}`);
    }
    console.log(`contracts: ${fresh.length} generated files up to date`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
} else {
  const contracts = compile();
  for (const f of committed()) fs.rmSync(path.join(here, f)); // drop what a removed contract left
  const files = generate(here, contracts);
  console.log(`contracts: wrote ${files.length} files`);
}
