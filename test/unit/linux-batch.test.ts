// Which step of an `ip -batch` failed: what the rollback of a failed apply undoes depends on it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failedBatchLine } from '../../src/switch/linux/execute.ts';

const lines = [
  'link set dev eth0 down',
  'link set dev eth0 nomaster',
  'link del dev bond1',
  'link add name bond1 type bond mode active-backup arp_interval 100 arp_ip_target 192.0.2.1,300.1.1.1',
  'link set dev eth0 master bond1',
];

describe('failedBatchLine', () => {
  it('takes the line "Command failed" names', () => {
    assert.equal(failedBatchLine('RTNETLINK answers: File exists\nCommand failed -:3\n', lines), 2);
  });
  it('finds a line ip could not parse (it names none) by the value its message quotes, in a list too', () => {
    assert.equal(failedBatchLine('Error: an IP address is expected rather than "300.1.1.1".\n', lines), 3);
    assert.equal(failedBatchLine('Error: argument "bond1" is wrong: invalid\n', lines), 4, 'the last line holding it: later errs on the safe side');
  });
  it('is undefined when nothing tells (every step may have run)', () => {
    assert.equal(failedBatchLine('Segmentation fault\n', lines), undefined);
    assert.equal(failedBatchLine('Error: "nowhere" is bad\n', lines), undefined);
  });
});
