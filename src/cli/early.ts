// Imported by main.ts before anything else, so this runs before commander and the engine
// load: a command that only reads the host starts its `ip` and `tc` processes now, and they
// run while the rest of netswitch loads. A command that changes the host reads it only once it
// holds the apply lock (engine/apply.ts), never here.
import { readKernelEarly } from '../host/snapshot.ts';
import { commandWord } from './argv.ts';

const command = commandWord(process.argv.slice(2));
if (command === 'show' || command === 'stats') readKernelEarly(true);
else if (command === 'plan') readKernelEarly(false);
