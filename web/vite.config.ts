// vaekit studio's browser UI: vite builds web/ into dist/web (served by src/studio/server.ts at /).
// Relative asset paths (base './'), everything bundled: the page loads with no network.
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

const here = decodeURIComponent(new URL('.', import.meta.url).pathname);
const library = decodeURIComponent(new URL('../src/', import.meta.url).pathname);

export default defineConfig({
  root: here,
  base: './',
  plugins: [preact({ devToolsEnabled: false, prefreshEnabled: false, reactAliasesEnabled: false })],
  build: {
    outDir: `${here}../dist/web`,
    emptyOutDir: true,
    target: 'es2022',
    // vega and vega-lite come as their own chunk, loaded with the first chart.
    chunkSizeWarningLimit: 1200,
    reportCompressedSize: false,
    rollupOptions: { treeshake: { moduleSideEffects: (id: string) => !id.startsWith(library) } },
  },
  logLevel: 'warn',
});
