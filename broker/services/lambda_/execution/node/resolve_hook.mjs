// Module resolve hook (runs on Node's loader thread): a bare specifier that the normal resolution cannot find is
// looked up in each NODE_PATH directory in turn.
import path from "node:path";
import { pathToFileURL } from "node:url";

const roots = (process.env.NODE_PATH || "").split(path.delimiter).filter(Boolean);

function isBare(specifier) {
  return !(
    specifier.startsWith(".") ||
    specifier.startsWith("/") ||
    specifier.startsWith("#") ||
    /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(specifier)
  );
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if (err?.code !== "ERR_MODULE_NOT_FOUND" || !isBare(specifier)) throw err;
    for (const root of roots) {
      // A parent inside `root` makes Node look for `root/<package>` (the parent folder's node_modules walk).
      const parentURL = pathToFileURL(path.join(root, "__lambda_resolve__.mjs")).href;
      try {
        return await nextResolve(specifier, { ...context, parentURL });
      } catch {
        // not in this directory
      }
    }
    throw err;
  }
}
