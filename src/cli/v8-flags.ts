import { setFlagsFromString } from "node:v8";

// Imported first by the CLI, before any regular expression runs. The router's signals are a few
// hundred regular expressions, some of them large alternations. By default V8 interprets a new
// one and compiles it to machine code on its second use, so a server's first decisions paid for
// both (a first decision ~19 ms, the next ones ~7 ms each until every pattern had tiered up).
// Compiling once, straight to machine code, makes the first ~12 ms and the second ~1 ms, with the
// same steady-state speed. V8 reads the flag when it compiles a pattern, so setting it here, in
// the process that owns the flags, is enough.
setFlagsFromString("--no-regexp-tier-up");
