// Running programs: argument arrays, stdin, captured output, errors naming the command — and
// the bulk mode (stdout through an unlinked temporary file) giving exactly what a pipe gives.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import { ErrorCode, isNetswitchError } from '../../src/model/errors.ts';
import { run, runJson } from '../../src/sys/run.ts';

const ourTempFiles = () => readdirSync(tmpdir()).filter((f) => f.startsWith(`netswitch-out-${process.pid}-`));

describe('run', () => {
  test('arguments reach the program as they are: no shell sees them', async () => {
    const r = await run(['printf', '%s|', 'a b', '$(echo no)', "it's"]);
    assert.equal(r.stdout, "a b|$(echo no)|it's|");
  });

  test('stdin is fed from a string', async () => {
    assert.equal((await run(['cat'], { input: 'line 1\nline 2\n' })).stdout, 'line 1\nline 2\n');
  });

  test('stdin given later: the program starts now and reads what comes once the input is known', async () => {
    const input = Promise.withResolvers<string>();
    // The program notes when it started, then waits for its stdin.
    const running = run(['sh', '-c', 'date +%s%N; cat'], { input: input.promise });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const given = BigInt(Date.now()) * 1_000_000n;
    input.resolve('the commands\n');
    const [started, rest] = (await running).stdout.split('\n', 2);
    assert.ok(BigInt(started) < given, 'it started before its input was given');
    assert.equal(rest, 'the commands');
  });

  test('stdin given later: a rejected input closes stdin with nothing written', async () => {
    const r = run(['cat'], { input: Promise.reject(new Error('the steps failed')) });
    assert.equal((await r).stdout, '');
  });

  test('a failing program is an error that names the command and quotes its stderr', async () => {
    await assert.rejects(run(['sh', '-c', 'echo broken >&2; exit 3']), (e: unknown) => {
      assert.ok(isNetswitchError(e, ErrorCode.Command));
      assert.match((e as Error).message, /sh -c .*failed: broken/);
      return true;
    });
    assert.equal((await run(['sh', '-c', 'exit 3'], { check: false })).code, 3);
  });

  test('a missing program is an error with a hint', async () => {
    await assert.rejects(run(['netswitch-no-such-program']), /cannot run netswitch-no-such-program/);
  });

  for (const bulk of [false, true]) {
    test(`${bulk ? 'bulk' : 'pipe'}: megabytes of output arrive whole, multi-byte characters intact`, async () => {
      // 300000 lines of 14 bytes, a 3-byte character in each: far beyond a pipe's 64 KiB.
      const r = await run(['sh', '-c', 'yes "€ netswitch" | head -n 300000'], { bulk });
      assert.equal(Buffer.byteLength(r.stdout), 300000 * 14);
      assert.ok(r.stdout.startsWith('€ netswitch\n€ netswitch\n'));
      assert.deepEqual(ourTempFiles(), []);
    });
  }

  test('bulk: JSON parsed, stderr and exit code kept, no file left behind', async () => {
    assert.deepEqual(await runJson(['echo', '[{"ifname": "eth0"}]'], { bulk: true }), [{ ifname: 'eth0' }]);
    const r = await run(['sh', '-c', 'echo out; echo err >&2; exit 4'], { bulk: true, check: false });
    assert.deepEqual([r.stdout, r.stderr, r.code], ['out\n', 'err\n', 4]);
    assert.equal((await run(['true'], { bulk: true })).stdout, '');
    await assert.rejects(run(['netswitch-no-such-program'], { bulk: true }), /cannot run/);
    assert.deepEqual(ourTempFiles(), []);
  });
});
