import { defineConfig } from 'vite';

// The console is served by MLog's admin listener at /console/; everything it needs (fonts, icons,
// chart styles) is bundled into dist/, nothing is fetched from elsewhere at run time.
export default defineConfig({
  base: '/console/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 6000,
    reportCompressedSize: false,
  },
  server: {
    proxy: { '/console/api': process.env.MLOG_CONSOLE_API ?? 'http://127.0.0.1:8081' },
  },
});
