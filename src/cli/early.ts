// Imported by main.ts before anything else, so this runs before commander and the engine
// load: a command that reads the host starts its `ip` and `tc` processes now, and they run
// while the rest of netswitch loads. A command that changes the host may read it only while
// it holds the apply lock: apply and restore take the lock now (the engine takes it over), and
// read early only when they got it; recovering an interrupted change first discards the read.
import { readKernelEarly } from '../host/snapshot.ts';
import { defaultStateDir, takeLockNow } from '../engine/state.ts';
import { commandWord, stateDirOption, wantsHelp } from './argv.ts';

const args = process.argv.slice(2);
const command = commandWord(args);
if (!wantsHelp(args)) {
  if (command === 'show' || command === 'stats') readKernelEarly(true);
  else if (command === 'plan') readKernelEarly(false);
  else if ((command === 'apply' || command === 'restore') && takeLockNow(stateDirOption(args) ?? defaultStateDir())) readKernelEarly(false);
}
