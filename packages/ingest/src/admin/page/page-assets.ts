import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { IngestFailure } from '../../errors.ts';

export interface PageAssets {
  html: string;
  script: string;
  style: string;
}

const pageDir = fileURLToPath(new URL('../../../page/', import.meta.url));
const require = createRequire(import.meta.url);

/**
 * The page's files, built from the project itself (no CDN: many networks that run a throttle
 * have no internet). The page's TypeScript and the chart library are bundled into one script
 * when first asked for, so there is no build step to forget.
 */
export async function loadPageAssets(): Promise<PageAssets> {
  const [html, chartStyle, pageStyle, bundle] = await Promise.all([
    readFile(`${pageDir}index.html`, 'utf8'),
    readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    readFile(`${pageDir}page.css`, 'utf8'),
    build({
      entryPoints: [`${pageDir}main.ts`],
      bundle: true,
      format: 'iife',
      target: 'es2020',
      minify: true,
      write: false,
      logLevel: 'silent',
    }),
  ]);
  const script = bundle.outputFiles[0]?.text;
  if (script === undefined)
    throw new IngestFailure('page_not_built', 'the page script was not built');
  return { html, style: `${chartStyle}\n${pageStyle}`, script };
}
