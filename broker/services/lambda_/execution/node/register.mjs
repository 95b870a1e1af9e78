// Loaded with `node --import`: ES-module handlers resolve bare specifiers (the AWS SDK, layer packages) through
// NODE_PATH as AWS's Node.js runtimes let them, although Node applies NODE_PATH to require() only.
import { register } from "node:module";

register("./resolve_hook.mjs", import.meta.url);
