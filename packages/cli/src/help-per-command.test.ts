import { describe, expect, it } from 'vitest';
import { adminCommands } from './commands/admin/index';
import { platformCommandSpecs } from './commands/platform-commands';
import { runMain } from './test-kit';

/** The option flags a help text offers, such as `--org`. */
const flagsIn = (help: string) => new Set(help.match(/^ {2}(?:-h, )?--[a-z-]+/gm)?.map((flag) => flag.trim()));

describe('tokenwise help', () => {
  it('lists every command, admin commands by their full name, on stdout for --help and for help', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const result = await runMain(args);
      expect(result, args.join(' ')).toMatchObject({ code: 0, stderr: '' });
      for (const name of [...Object.keys(platformCommandSpecs), ...Object.keys(adminCommands)])
        expect(result.stdout, `${args.join(' ')} lists ${name}`).toMatch(new RegExp(`^ {2}${name} `, 'm'));
      expect(result.stdout).toContain('TOKENWISE_DATA_DIR');
    }
  });

  it("shows a command's own options and no other command's", async () => {
    const keysCreate = await runMain(['keys', 'create', '--help']);
    expect(keysCreate).toMatchObject({ code: 0, stderr: '' });
    expect(keysCreate.stdout).toMatch(/^Usage: tokenwise keys create \[options\]/);
    expect(keysCreate.stdout).toMatch(/--org <slug> +the org \(required\)/);
    expect([...flagsIn(keysCreate.stdout)].sort()).toEqual(
      [
        '--org',
        '--user',
        '--system',
        '--name',
        '--scopes',
        '--models',
        '--rpm',
        '--tpm',
        '--expires-in-days',
        '--json',
        '-h, --help',
      ].sort(),
    );

    const grant = await runMain(['grant', '--help']);
    expect([...flagsIn(grant.stdout)].sort()).toEqual(
      [
        '--org',
        '--user',
        '--team',
        '--amount',
        '--currency',
        '--reason',
        '--id',
        '--monthly',
        '--json',
        '-h, --help',
      ].sort(),
    );
    const migrate = await runMain(['migrate', '--help']);
    expect([...flagsIn(migrate.stdout)]).toEqual(['-h, --help']);
    const doctor = await runMain(['help', 'doctor']);
    expect([...flagsIn(doctor.stdout)].sort()).toEqual(['--json', '-h, --help']);
  });

  it("lists a group's commands for `tokenwise <group> --help`", async () => {
    const keys = await runMain(['keys', '--help']);
    expect(keys).toMatchObject({ code: 0, stderr: '' });
    for (const name of ['keys create', 'keys list', 'keys revoke', 'keys rotate'])
      expect(keys.stdout).toMatch(new RegExp(`^ {2}${name} `, 'm'));
    expect(keys.stdout).not.toContain('org create');
  });
});
