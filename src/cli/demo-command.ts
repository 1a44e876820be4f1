import type { Command } from 'commander'
import type { DemoModels } from '../demo/demo-config.js'
import { runDemo } from '../demo/run-demo.js'
import { RagtuneError } from '../errors.js'

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .summary('the whole loop in one command: index, ask, label, analyze, dataset, train, A/B eval, promote')
    .description(
      'the whole loop on a sample corpus it writes itself: index, ask (logged), import labels and give feedback, analyze, ' +
        'build a RAFT dataset, train a LoRA adapter, evaluate base and adapter on the held-out split, promote through the gate, ' +
        'and a before/after table. Each step runs the real `ragtune` command in --dir and prints it. With the tiny models ' +
        '(default) it runs offline in minutes; the numbers show the loop, not quality.',
    )
    .option('--dir <dir>', 'folder for the demo (created; cleared on the next run, except its model cache)', '.ragtune-demo')
    .option('--models <which>', '"tiny" (ragtune\'s own, offline) or "default" (the real default models; needs the Hugging Face hub once)', 'tiny')
    .action(async (opts: { dir: string; models: string }) => {
      if (opts.models !== 'tiny' && opts.models !== 'default') throw new RagtuneError('USAGE', `--models expects "tiny" or "default", got "${opts.models}"`)
      await runDemo({ dir: opts.dir, models: opts.models as DemoModels })
    })
}
