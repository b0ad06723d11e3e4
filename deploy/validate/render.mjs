// Renders a kustomize directory with kubectl's built-in kustomize (offline) and parses the result.
import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

// The objects of a multi-document YAML text; throws on a YAML syntax error.
export function parseObjects(text) {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`YAML: ${document.errors[0].message}`);
      return document.toJS();
    })
    .filter((object) => object !== null);
}

// `kubectl kustomize directory`, parsed; throws with kubectl's message when rendering fails.
export function renderKustomization(directory) {
  const text = execFileSync('kubectl', ['kustomize', directory], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseObjects(text);
}
