import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeSection } from '../../bench/lib.ts';

test('writeSection replaces its own section, keeps the others in order and the notes after them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nsw-benchdoc-'));
  try {
    const file = join(dir, 'benchmarks.md');
    await writeFile(file, '# old header\n\n<!-- bench:ovs -->\nold ovs\n<!-- /bench:ovs -->\n\n<!-- bench:linux -->\nold linux\n<!-- /bench:linux -->\n\n## Notes by hand\n\nkept\n');
    await writeSection('linux', 'new linux', ['ovs', 'linux', 'report'], file);
    await writeSection('report', 'new report', ['ovs', 'linux', 'report'], file);
    const text = await readFile(file, 'utf8');
    assert.match(text, /<!-- bench:ovs -->\nold ovs\n<!-- \/bench:ovs -->\n\n<!-- bench:linux -->\nnew linux\n<!-- \/bench:linux -->\n\n<!-- bench:report -->\nnew report\n<!-- \/bench:report -->\n\n## Notes by hand\n\nkept\n$/);
    assert.doesNotMatch(text, /old header|old linux/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
