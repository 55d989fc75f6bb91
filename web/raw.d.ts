// Vite's `?raw` imports: a file's text (web/playground-code.ts reads web/playground-data.ts so).
declare module '*?raw' {
  const source: string;
  export default source;
}
