import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/**
 * `npm run build`, second step (temporalio/samples-typescript `production` pattern): bundles the
 * compiled workflows once, so the production worker starts from `dist/workflow-bundle.js` instead
 * of running webpack at start-up.
 *
 * Runs compiled, as dist/scripts/build-workflow-bundle.js: `../workflows` is dist/workflows and the
 * output is dist/workflow-bundle.js, the path src/temporal/workerFactory.ts's
 * DEFAULT_WORKFLOW_BUNDLE resolves to from dist/src/temporal/.
 */
async function bundle(): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
  });
  const codePath = path.resolve(__dirname, '../workflow-bundle.js');
  await writeFile(codePath, code);
  console.log(`workflow bundle written to ${codePath}`);
}

bundle().catch((error) => {
  console.error(error);
  process.exit(1);
});
