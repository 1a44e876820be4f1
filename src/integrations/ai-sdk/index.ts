/** `ragtune/ai-sdk`: needs the `ai` package (an optional peer dependency). */
export { ragtuneTool, type RagtuneToolOptions, type RagtuneToolOutput, type RagtuneToolSource } from './ragtune-tool.js'
