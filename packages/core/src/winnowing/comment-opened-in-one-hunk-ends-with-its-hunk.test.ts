import { describe, expect, it } from 'vitest';
import { containment, fingerprintHashes } from './score';
import { fingerprintCompletion, fingerprintDiff } from './sources';
import { tokenizeLines } from './winnow';

// Found by the labelled set (commander 11.0.0 -> 11.1.0): a hunk whose last added line opens a
// doc comment (`/**`) closed by a context line used to swallow every later hunk of the file, as
// the added lines of a file were lexed as one text: the function added further down was never
// fingerprinted, and a completion holding it scored 0.

const added = `export function parsePort(value) {
  const port = Number.parseInt(value, 10);
  if (Number.isNaN(port) || port < 1 || port > 65535) {
    throw new RangeError(\`Port must be 1..65535, got \${value}\`);
  }
  return port;
}`;

const jsPatch = `@@ -10,4 +10,5 @@ export class Server {
   }
 
+  /**
    * Starts listening.
    */
@@ -40,2 +41,9 @@ export class Server {
 }
${added
  .split('\n')
  .map((line) => `+${line}`)
  .join('\n')}
 export const version = 1;`;

const pyPatch = `@@ -1,3 +1,3 @@
-"""Old summary of the module.
+"""New summary of the module.
 
 Details that stay.
@@ -20,2 +20,6 @@ import os
 
+def parse_port(value):
+    port = int(value, 10)
+    if port < 1 or port > 65535:
+        raise ValueError(f"port must be 1..65535, got {value}")
+    return port
 `;

describe('added lines of a diff', () => {
  it('finds a function added after a hunk that opens a doc comment closed by context', () => {
    const merged = fingerprintHashes(fingerprintDiff(jsPatch, undefined, 'src/server.js').map((file) => file.code));
    const completion = fingerprintCompletion(`\`\`\`js\n${added}\n\`\`\``);
    expect(containment(completion, merged).containment).toBe(1);
  });

  it('finds a Python function added after a hunk that opens a docstring closed by context', () => {
    const merged = fingerprintHashes(fingerprintDiff(pyPatch, undefined, 'port.py').map((file) => file.code));
    const completion = fingerprintCompletion(
      '```python\ndef parse_port(value):\n    port = int(value, 10)\n    if port < 1 or port > 65535:\n' +
        '        raise ValueError(f"port must be 1..65535, got {value}")\n    return port\n```',
    );
    expect(containment(completion, merged).containment).toBe(1);
  });

  it('lexes consecutive lines as one text, so a comment spanning them is still skipped', () => {
    const lines = [
      { line: 5, text: '/* a comment' },
      { line: 6, text: 'still the comment */ x = 1' },
      { line: 9, text: 'y = "open string' },
      { line: 10, text: 'z = 2' },
    ];
    expect(tokenizeLines(lines).map((token) => `${token.line}:${token.symbol}`)).toEqual([
      '6:$id',
      '6:=',
      '6:$num',
      '9:$id',
      '9:=',
      '9:$str',
      '10:$id',
      '10:=',
      '10:$num',
    ]);
  });
});
