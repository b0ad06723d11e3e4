// Validates Kubernetes objects offline against the API schemas, strictly.
//
// Two checks, because neither is enough alone:
// - kubernetes-models: the published OpenAPI schemas compiled to validators (types, required fields,
//   enums, formats), but it accepts fields the schema does not name;
// - a field walk over @kubernetes/client-node's generated models, which name every field of every
//   type: any field the API does not know is an error (the API server would drop it silently, or
//   refuse it with --validate=strict), and every value must have its field's JSON type.
import * as clientModels from '@kubernetes/client-node';

// "apps/v1" -> { group: "apps", version: "v1" }; "v1" -> { group: "", version: "v1" }.
function splitApiVersion(apiVersion) {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

// client-node names a model after its version and kind: V1Deployment, V2HorizontalPodAutoscaler,
// V1beta1... (the group is implied; the kinds used here are unique per version).
function clientModelName(apiVersion, kind) {
  const { version } = splitApiVersion(apiVersion);
  return version.charAt(0).toUpperCase() + version.slice(1) + kind;
}

const ARRAY_TYPE = /^Array<(.+)>$/;
const MAP_TYPE = /^\{ \[key: string\]: (.+); \}$/;

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// Appends to `errors` every field under `value` that the model type `type` does not declare, and
// every value whose JSON type differs from its field's. `path` names `value` in messages.
function walk(value, type, format, path, errors) {
  if (value === null || value === undefined) return;  // The API treats null as absent.
  let match;
  switch (type) {
    case 'any':
    case 'object':
      return;
    case 'string':
    case 'Date':
      if (typeof value !== 'string') errors.push(`${path}: expected a string, got ${JSON.stringify(value)}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') errors.push(`${path}: expected a boolean, got ${JSON.stringify(value)}`);
      return;
    case 'number':
      if (typeof value !== 'number') {
        errors.push(`${path}: expected a number, got ${JSON.stringify(value)}`);
      } else if ((format === 'int32' || format === 'int64') && !Number.isInteger(value)) {
        errors.push(`${path}: expected an integer, got ${value}`);
      }
      return;
    case 'IntOrString':
      if (typeof value !== 'string' && !Number.isInteger(value)) {
        errors.push(`${path}: expected an integer or a string, got ${JSON.stringify(value)}`);
      }
      return;
  }
  if ((match = ARRAY_TYPE.exec(type))) {
    if (!Array.isArray(value)) {
      errors.push(`${path}: expected a list, got ${JSON.stringify(value)}`);
      return;
    }
    value.forEach((item, i) => walk(item, match[1], '', `${path}[${i}]`, errors));
    return;
  }
  if ((match = MAP_TYPE.exec(type))) {
    if (!isPlainObject(value)) {
      errors.push(`${path}: expected a map, got ${JSON.stringify(value)}`);
      return;
    }
    for (const [key, item] of Object.entries(value)) walk(item, match[1], '', `${path}.${key}`, errors);
    return;
  }
  const model = clientModels[type];
  if (!model || !Array.isArray(model.attributeTypeMap)) {
    throw new Error(`validator: no model for type ${type} at ${path}`);
  }
  if (!isPlainObject(value)) {
    errors.push(`${path}: expected an object (${type}), got ${JSON.stringify(value)}`);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    const field = model.attributeTypeMap.find((attribute) => attribute.baseName === key);
    if (!field) {
      errors.push(`${path}.${key}: unknown field (${type} has no "${key}")`);
      continue;
    }
    walk(item, field.type, field.format, `${path}.${key}`, errors);
  }
}

// Errors of the compiled OpenAPI validator from kubernetes-models, as strings.
async function schemaErrors(object, name) {
  const { group, version } = splitApiVersion(object.apiVersion);
  let module;
  try {
    module = await import(`kubernetes-models/${group ? `${group}/` : ''}${version}`);
  } catch {
    return [`${name}: unknown apiVersion ${object.apiVersion}`];
  }
  const Model = module[object.kind];
  if (typeof Model !== 'function') return [`${name}: unknown kind ${object.kind} in ${object.apiVersion}`];
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    const details = (error.errors ?? []).map(
      (e) => `${name}${(e.instancePath || '').replaceAll('/', '.')}: ${e.message}`);
    return details.length > 0 ? details : [`${name}: ${error.message}`];
  }
}

// Returns every problem with one object (empty when it is valid): schema violations and unknown
// fields, each naming the object and the field.
export async function validateObject(object) {
  if (!isPlainObject(object)) return ['document: not an object'];
  if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') {
    return ['document: apiVersion and kind are required'];
  }
  const name = `${object.kind}/${object.metadata?.name ?? '<unnamed>'}`;
  const errors = [];
  if (!object.metadata?.name) errors.push(`${name}: metadata.name is required`);
  errors.push(...(await schemaErrors(object, name)));
  const modelName = clientModelName(object.apiVersion, object.kind);
  if (!clientModels[modelName]?.attributeTypeMap) {
    errors.push(`${name}: no strict model ${modelName} for ${object.apiVersion} ${object.kind}`);
  } else {
    walk(object, modelName, '', name, errors);
  }
  return errors;
}

// validateObject over a list; returns all problems of all objects.
export async function validateObjects(objects) {
  const errors = [];
  for (const object of objects) errors.push(...(await validateObject(object)));
  return errors;
}
