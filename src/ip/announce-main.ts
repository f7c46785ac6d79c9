// The detached announcer process (see announce.ts): `node announce-main.ts '<JSON list>'`.
import { type Announcement, announceAll } from './announce.ts';

if (process.argv[2]) await announceAll(JSON.parse(process.argv[2]) as Announcement[]);
