// The error an apply ends with after its rollback: proven, or with the differences left and a
// hint that fits them (things that appeared meanwhile are not netswitch's to repair).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rolledBack } from '../../src/engine/transaction.ts';
import { ErrorCode, NetswitchError } from '../../src/model/errors.ts';

const cause = new NetswitchError(ErrorCode.Command, 'step 3 (create bridge vmnet) failed: File exists');

test('a proven rollback is RolledBack; differences make it RollbackFailed, with a hint that fits them', () => {
  assert.equal(rolledBack(cause, []).code, ErrorCode.RolledBack);
  const appeared = rolledBack(cause, ['link o0199 appeared', 'rule new: IPv4 priority 32000 from 198.51.100.0/24 lookup 30120550']);
  assert.equal(appeared.code, ErrorCode.RollbackFailed);
  assert.match(appeared.hint ?? '', /everything netswitch changed is undone; what is listed appeared while the change ran/);
  const changed = rolledBack(cause, ['link vmnet disappeared']);
  assert.match(changed.hint ?? '', /`netswitch apply` of the previous config repairs it/);
});
