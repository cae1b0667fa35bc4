// Drives Backstage's published `@backstage/catalog-client` against a running catalog.
//
// Usage (the working directory must be a folder where `@backstage/catalog-client`
// is installed with npm; this script itself may live anywhere):
//
//   node run_client.mjs <base-url> <location-url>
//
// <base-url> is the server root, e.g. http://127.0.0.1:7007 (the catalog is at
// <base-url>/api/catalog); <location-url> is a catalog-info.yaml that the server
// may read and that is not registered yet.
//
// Prints ONE JSON object on stdout: {"results": {<step>: <what the client returned>}}.
// When a step throws, the object also has {"error": {step, name, message, status, body}}
// and the exit code is 1. Entities are summarised as refs to keep the output short.

import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(join(process.cwd(), 'package.json'));
const { CatalogClient } = require('@backstage/catalog-client');

const [base, locationUrl] = process.argv.slice(2);
if (!base || !locationUrl) {
  process.stderr.write('usage: node run_client.mjs <base-url> <location-url>\n');
  process.exit(2);
}

const client = new CatalogClient({
  discoveryApi: { getBaseUrl: async () => `${base.replace(/\/+$/, '')}/api/catalog` },
  fetchApi: { fetch: globalThis.fetch },
});

const results = {};
let current = '(setup)';

function refOf(entity) {
  if (entity === undefined) return '<undefined>';
  if (entity === null) return '<null>';
  const kind = String(entity.kind).toLocaleLowerCase('en-US');
  const namespace = String(entity.metadata?.namespace ?? 'default').toLocaleLowerCase('en-US');
  return `${kind}:${namespace}/${entity.metadata?.name}`;
}

async function step(name, fn) {
  current = name;
  const value = await fn();
  results[name] = value === undefined ? '<undefined>' : value;
  return value;
}

// Calls that must fail: record how the client reports the error.
async function failingStep(name, fn) {
  current = name;
  try {
    const value = await fn();
    results[name] = { threw: false, value: value === undefined ? '<undefined>' : value };
  } catch (e) {
    results[name] = { threw: true, ...describeError(e) };
  }
}

function describeError(e) {
  return {
    name: e?.name,
    message: e?.message,
    status: e?.response?.status ?? e?.statusCode,
    body: e?.body,
    cause: e?.cause ? String(e.cause.code ?? e.cause.message ?? e.cause) : undefined,
  };
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

async function walk(first, limit) {
  // Follows pageInfo.nextCursor from the first page to the last.
  const pages = [];
  let response = await client.queryEntities(first);
  for (let i = 0; i < 1000; i++) {
    pages.push({
      refs: response.items.map(refOf),
      totalItems: response.totalItems,
      hasNext: Boolean(response.pageInfo?.nextCursor),
      hasPrev: Boolean(response.pageInfo?.prevCursor),
    });
    const cursor = response.pageInfo?.nextCursor;
    if (!cursor) break;
    response = await client.queryEntities({ cursor, limit });
  }
  return { pages, refs: pages.flatMap(p => p.refs) };
}

async function main() {
  await step('getEntities', async () => {
    const { items } = await client.getEntities({ filter: { kind: 'Component' } });
    return { count: items.length, refs: items.map(refOf) };
  });

  await step('getEntitiesWithFields', async () => {
    const { items } = await client.getEntities({
      filter: { kind: 'Component' },
      fields: ['kind', 'metadata.name'],
    });
    return { count: items.length, items };
  });

  await step('queryEntitiesWalk', () =>
    walk({ filter: { kind: ['Component', 'API'] }, limit: 3 }, 3),
  );

  // With a predicate the client uses POST /entities/by-query, and for the
  // following pages too (it looks inside the cursor for the query).
  await step('queryEntitiesPredicateWalk', () =>
    walk({ query: { kind: { $in: ['Component', 'API'] } }, limit: 4 }, 4),
  );

  await step('getEntityByRef', async () => {
    const entity = await client.getEntityByRef('component:default/artist-lookup');
    return entity === undefined
      ? undefined
      : { ref: refOf(entity), name: entity.metadata.name, uid: entity.metadata.uid };
  });

  await step('getEntityByRefMissing', async () => {
    const entity = await client.getEntityByRef('component:default/no-such-entity');
    return entity === undefined ? '<undefined>' : refOf(entity);
  });

  await step('getEntitiesByRefs', async () => {
    const { items } = await client.getEntitiesByRefs({
      entityRefs: [
        'component:default/artist-lookup',
        'api:default/petstore',
        'component:default/no-such-entity',
      ],
    });
    return { refs: items.map(refOf), length: items.length };
  });

  await step('getEntityFacets', () =>
    client.getEntityFacets({ facets: ['kind', 'spec.type'] }),
  );

  await step('getEntityFacetsFiltered', () =>
    client.getEntityFacets({ facets: ['spec.type'], filter: { kind: 'API' } }),
  );

  const target = locationUrl;
  const added = await step('addLocation', async () => {
    const response = await client.addLocation({ type: 'url', target });
    return {
      location: response.location,
      entities: response.entities,
      exists: response.exists,
    };
  });
  const id = added.location.id;

  await failingStep('addLocationAgain', () => client.addLocation({ type: 'url', target }));

  await step('getLocationByRef', () => client.getLocationByRef(`url:${target}`));

  await step('getLocationById', () => client.getLocationById(id));

  await step('getLocations', async () => (await client.getLocations()).items);

  // Processing is asynchronous: wait (bounded) for the entities of the new location.
  const origin = `url:${target}`;
  const fromLocation = await step('entitiesFromLocation', async () => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { items } = await client.getEntities({
        filter: { 'metadata.annotations.backstage.io/managed-by-origin-location': origin },
      });
      const refs = items.filter(e => e.kind !== 'Location').map(refOf);
      if (refs.length || Date.now() > deadline) return refs;
      await sleep(200);
    }
  });

  if (fromLocation.length) {
    await step('getLocationByEntity', () => client.getLocationByEntity(fromLocation[0]));
  }

  await step('removeLocationById', () => client.removeLocationById(id));

  await step('getLocationByIdAfterRemove', () => client.getLocationById(id));

  await failingStep('removeLocationByIdAgain', () => client.removeLocationById(id));

  const catalogInfo = 'url:http://example.com/catalog-info.yaml';
  await step('validateEntityValid', () =>
    client.validateEntity(
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: { name: 'valid-component' },
        spec: { type: 'service', lifecycle: 'production', owner: 'team-a' },
      },
      catalogInfo,
    ),
  );

  await step('validateEntityInvalid', () =>
    client.validateEntity(
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: { name: 'not a valid name!' },
        spec: { type: 'service', lifecycle: 'production', owner: 'team-a' },
      },
      catalogInfo,
    ),
  );
}

try {
  await main();
  process.stdout.write(`${JSON.stringify({ results })}\n`);
} catch (e) {
  process.stdout.write(
    `${JSON.stringify({ results, error: { step: current, ...describeError(e) } })}\n`,
  );
  process.exitCode = 1;
}
