/** Style sheets are bundled by esbuild (src/server/web.ts). */
declare module '*.css';
