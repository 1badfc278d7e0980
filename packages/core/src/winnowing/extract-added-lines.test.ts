import { describe, expect, it } from 'vitest';
import { addedLinesByPath, extractAddedLines } from './extract-added-lines';

describe('extractAddedLines', () => {
  it('reads a GitHub patch field: new-file line numbers across hunks, removals and no-newline markers skipped', () => {
    const patch = [
      '@@ -1,4 +1,5 @@',
      ' const a = "a";',
      '-const old = 1;',
      '+const fresh = 2;',
      '+++counter;',
      ' ',
      ' export { a };',
      '@@ -20,2 +21,3 @@ function tail() {',
      '   return 1;',
      '+  // added',
      ' }',
      '\\ No newline at end of file',
    ].join('\n');
    expect(extractAddedLines(patch, 'src/x.ts')).toEqual([
      { path: 'src/x.ts', line: 2, text: 'const fresh = 2;' },
      { path: 'src/x.ts', line: 3, text: '++counter;' },
      { path: 'src/x.ts', line: 22, text: '  // added' },
    ]);
  });

  it('reads a whole git diff: paths from +++ headers, new files, deleted files, headers never taken as lines', () => {
    const diff = [
      'diff --git a/src/a.ts b/src/a.ts',
      'index 1111111..2222222 100644',
      '--- a/src/a.ts',
      '+++ b/src/a.ts',
      '@@ -1 +1 @@',
      '-x',
      '+y',
      'diff --git a/new.py b/new.py',
      'new file mode 100644',
      '--- /dev/null',
      '+++ b/new.py',
      '@@ -0,0 +1,2 @@',
      '+def f():',
      '+    return 1',
      'diff --git a/gone.ts b/gone.ts',
      'deleted file mode 100644',
      '--- a/gone.ts',
      '+++ /dev/null',
      '@@ -1,1 +0,0 @@',
      '-bye',
      '',
    ].join('\r\n');
    const added = extractAddedLines(diff);
    expect(added).toEqual([
      { path: 'src/a.ts', line: 1, text: 'y' },
      { path: 'new.py', line: 1, text: 'def f():' },
      { path: 'new.py', line: 2, text: '    return 1' },
    ]);
    expect([...addedLinesByPath(added).entries()]).toEqual([
      ['src/a.ts', [{ line: 1, text: 'y' }]],
      [
        'new.py',
        [
          { line: 1, text: 'def f():' },
          { line: 2, text: '    return 1' },
        ],
      ],
    ]);
  });

  it('counts an empty context line whose space was stripped, and yields what a cut-off hunk has', () => {
    expect(extractAddedLines('@@ -1,3 +1,4 @@\n a\n\n+b\n c', 'f')).toEqual([{ path: 'f', line: 3, text: 'b' }]);
    expect(extractAddedLines('@@ -1,1 +1,5 @@\n+one\n+two', 'f').map((entry) => entry.line)).toEqual([1, 2]);
    expect(extractAddedLines('')).toEqual([]);
  });
});
