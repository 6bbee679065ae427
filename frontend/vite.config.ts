import { defineConfig } from "vite";

// The bundle is written into the Python package so the wheel ships it (no CDN, no run-time npm).
export default defineConfig({
  base: "/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "../src/twinkit/dashboard/static",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2020",
    chunkSizeWarningLimit: 600,
    sourcemap: false,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8000", "/healthz": "http://127.0.0.1:8000" } },
});
