/** Style sheets are bundled by esbuild (assets.ts); importing one yields nothing. */
declare module "*.css";
