// Running shaping steps: all of them in one `tc -batch -`, as ip's are; tc reports the failing
// line ("Command failed -:N") and stops there, so the steps that took effect are known.
import { ErrorCode, NetswitchError } from '../model/errors.ts';
import { run } from '../sys/run.ts';
import { type QosStep, describeQosStep, tcBatchScript } from './hfsc.ts';

export async function executeTc(steps: readonly QosStep[], options: { force?: boolean; stepOffset?: number } = {}): Promise<{ completed: number; error?: NetswitchError; refused?: number }> {
  if (steps.length === 0) return { completed: 0 };
  const { input, stepOfLine } = tcBatchScript(steps);
  const result = await run(['tc', ...(options.force ? ['-force'] : []), '-batch', '-'], { input, check: false, timeoutMs: 600_000 });
  if (result.code === 0) return { completed: steps.length };
  const why = result.stderr
    .split('\n')
    .filter((l) => l && !l.startsWith('Command failed'))
    .join('; ');
  if (options.force) return { completed: steps.length, error: new NetswitchError(ErrorCode.Command, `tc -batch: ${why}`) };
  const m = /Command failed -:(\d+)/.exec(result.stderr);
  // No line named (tc killed, or stopped on a line it could not parse): any step may have run.
  const failed = m ? (stepOfLine[Number(m[1]) - 1] ?? 0) : steps.length - 1;
  const step = steps[failed];
  // One tc command is one request: refused, it changed nothing (see ExecuteResult.refused).
  const whole = m !== null && stepOfLine.filter((s) => s === failed).length === 1;
  return {
    completed: failed,
    ...(whole ? { refused: failed } : {}),
    error: new NetswitchError(ErrorCode.Command, `step ${(options.stepOffset ?? 0) + failed + 1} (${describeQosStep(step)}) failed: ${why || 'refused'}`, {
      hint: /Unknown qdisc|No such file or directory/.test(why) ? 'the kernel lacks HFSC (sch_hfsc) or the basic classifier (cls_basic, em_meta)' : undefined,
      context: { step },
    }),
  };
}
