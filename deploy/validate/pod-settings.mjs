// Reads what the artd pod of a rendered overlay gets, for running the image as the cluster would.
//
//   node validate/pod-settings.mjs RENDERED.yaml env     # the ConfigMap's variables, as a podman --env-file
//   node validate/pod-settings.mjs RENDERED.yaml grace   # terminationGracePeriodSeconds
import { readFileSync } from 'node:fs';
import { parseObjects } from './render.mjs';

const [file, what] = process.argv.slice(2);
const objects = parseObjects(readFileSync(file, 'utf8'));
const pod = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === 'artd')?.spec.template.spec;
if (!pod) throw new Error(`${file}: no Deployment artd`);
const artd = pod.containers.find((container) => container.name === 'artd');

if (what === 'env') {
  for (const source of artd.envFrom ?? []) {
    const configMap = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === source.configMapRef?.name);
    if (!configMap) throw new Error(`${file}: no ConfigMap ${source.configMapRef?.name}`);
    for (const [name, value] of Object.entries(configMap.data ?? {})) console.log(`${name}=${value}`);
  }
} else if (what === 'grace') {
  console.log(pod.terminationGracePeriodSeconds ?? 30);
} else {
  throw new Error('usage: pod-settings.mjs RENDERED.yaml env|grace');
}
