import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { StateDir, takeLockNow } from '../../src/engine/state.ts';
import { ErrorCode, isNetswitchError } from '../../src/model/errors.ts';

const root = mkdtempSync(join(tmpdir(), 'netswitch-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `s${n++}`);

describe('the apply lock', () => {
  it('holds our pid while held and is gone once released', async () => {
    const state = new StateDir(freshDir());
    const unlock = await state.lock();
    assert.equal(readFileSync(state.path('lock'), 'utf8'), String(process.pid));
    await unlock();
    assert.equal(existsSync(state.path('lock')), false);
  });

  it('is refused while a live process holds it, and taken over from a dead one', async () => {
    const state = new StateDir(freshDir());
    const holder = spawn('sleep', ['30']);
    try {
      await (await state.lock())(); // creates the dir
      writeFileSync(state.path('lock'), String(holder.pid));
      await assert.rejects(state.lock(), (e) => isNetswitchError(e, ErrorCode.Busy) && e.message.includes(`pid ${holder.pid}`));
      assert.equal(takeLockNow(state.dir), false, 'the early lock is not taken either');
      assert.equal(readFileSync(state.path('lock'), 'utf8'), String(holder.pid), 'and the holder keeps it');
    } finally {
      holder.kill();
    }
    const dead = spawnSync('true').pid;
    writeFileSync(state.path('lock'), String(dead));
    const unlock = await state.lock();
    assert.equal(readFileSync(state.path('lock'), 'utf8'), String(process.pid));
    await unlock();
  });

  it('taken at start-up (takeLockNow) is taken over by lock(), which then releases it', async () => {
    const state = new StateDir(freshDir());
    assert.equal(takeLockNow(state.dir), true);
    assert.equal(readFileSync(state.path('lock'), 'utf8'), String(process.pid));
    const unlock = await state.lock(); // ours already: no Busy
    await unlock();
    assert.equal(existsSync(state.path('lock')), false);
  });

  it('taken at start-up and never taken over is released when the process exits', () => {
    const dir = freshDir();
    const program = `import { takeLockNow } from ${JSON.stringify(join(import.meta.dirname, '../../src/engine/state.ts'))}; if (!takeLockNow(${JSON.stringify(dir)})) process.exit(3);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(join(dir, 'lock')), false);
  });
});
