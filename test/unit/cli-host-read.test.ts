import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandWord, stateDirOption, wantsHelp } from '../../src/cli/argv.ts';
import { routeFamily } from '../../src/host/snapshot.ts';

describe('commandWord', () => {
  it('skips global options and their values', () => {
    assert.equal(commandWord(['show']), 'show');
    assert.equal(commandWord(['-o', 'json', 'show']), 'show');
    assert.equal(commandWord(['--output', 'yaml', '-v', 'plan', 'x.yaml']), 'plan');
    assert.equal(commandWord(['--state-dir', '/tmp/show', 'apply', 'f']), 'apply');
    assert.equal(commandWord(['--output=json', 'stats']), 'stats');
    assert.equal(commandWord(['-q', '--', 'show']), 'show');
  });
  it('is undefined without a command', () => {
    assert.equal(commandWord([]), undefined);
    assert.equal(commandWord(['-o', 'json']), undefined);
    assert.equal(commandWord(['--help']), undefined);
  });
});

describe('stateDirOption and wantsHelp (the early host read of apply and restore)', () => {
  it('finds --state-dir in either spelling, the last one winning, before --', () => {
    assert.equal(stateDirOption(['--state-dir', '/tmp/a', 'apply', 'f']), '/tmp/a');
    assert.equal(stateDirOption(['apply', '--state-dir=/tmp/b', 'f']), '/tmp/b');
    assert.equal(stateDirOption(['--state-dir', '/tmp/a', 'apply', '--state-dir', '/tmp/c']), '/tmp/c');
    assert.equal(stateDirOption(['apply', '--', '--state-dir', '/tmp/d']), undefined);
    assert.equal(stateDirOption(['apply', 'f']), undefined);
  });
  it('tells a request for help', () => {
    assert.equal(wantsHelp(['apply', '--help']), true);
    assert.equal(wantsHelp(['-h', 'apply']), true);
    assert.equal(wantsHelp(['apply', 'f']), false);
    assert.equal(wantsHelp(['apply', '--', '-h']), false);
  });
});

describe('routeFamily (routes listed without a family)', () => {
  it('tells IPv6 by an address or by the preference every IPv6 route has', () => {
    assert.equal(routeFamily({ dst: '10.0.0.0/24' }), 4);
    assert.equal(routeFamily({ dst: 'default', gateway: '192.0.2.1' }), 4);
    assert.equal(routeFamily({ dst: 'fd00::/64', pref: 'medium' }), 6);
    assert.equal(routeFamily({ dst: 'default', gateway: 'fe80::1' }), 6);
    assert.equal(routeFamily({ dst: 'default', pref: 'medium' }), 6); // unreachable default
    assert.equal(routeFamily({ dst: 'default' }), 4);
  });
});
