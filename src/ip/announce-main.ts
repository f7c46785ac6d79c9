// The detached announcer process (see announce.ts): its list of addresses comes as JSON on
// stdin; nothing (the apply did not keep them) means nothing to announce.
import { text } from 'node:stream/consumers';
import { type Announcement, announceAll } from './announce.ts';

const input = await text(process.stdin);
if (input.trim()) await announceAll(JSON.parse(input) as Announcement[]);
