// SPDX-License-Identifier: MIT
//
// Checks docs/openapi.yaml, the description of patd's HTTP API:
//
//   1. it is a valid OpenAPI 3.1 document (@apidevtools/swagger-parser,
//      which validates against the official OAS 3.1 JSON Schema);
//   2. every JSON Schema in it compiles under Ajv's strict JSON Schema
//      2020-12 mode (swagger-parser does not look inside schemas, so a
//      misspelt keyword such as `maxlength` would otherwise pass), and
//      every example validates against its schema;
//   3. the rules of the patd contract that a schema cannot state: unique
//      operationIds, declared path parameters, the error responses each
//      kind of operation must list, `X-CSRF-Token` with every
//      cookie-authenticated state change, request bodies that are JSON
//      objects refusing unknown fields or forms of string fields;
//   4. route parity, when a route list is given: every route the server
//      registers (`patd routes`, one `METHOD /path/{param}` a line) is an
//      operation in the document, and every operation is a route.
//
// Usage: node tests/openapi/validate.mjs OPENAPI.yaml [ROUTES.txt]
// Prints one line per check and, last, exactly "N passed, M failed".
// Exits 0 when nothing failed, 1 otherwise, 2 on bad usage.

import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020.js';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const STATE_CHANGING = new Set(['post', 'put', 'patch', 'delete']);
const SCHEMA_PREFIX = '#/components/schemas/';
const SCHEMA_URN = 'urn:patd:openapi:schema:';
const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

let passed = 0;
let failed = 0;

// Records one check; problems is a list of strings (empty: the check passed).
function check(name, problems) {
    if (problems.length === 0) {
        passed++;
        console.log(`ok - ${name}`);
        return;
    }
    failed++;
    console.log(`FAIL - ${name}`);
    for (const p of problems) console.log(`    ${p}`);
}

function finish() {
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
}

// Follows a local "#/a/b/c" reference inside doc; undefined when it dangles.
function resolvePointer(doc, ref) {
    if (typeof ref !== 'string' || !ref.startsWith('#/')) return undefined;
    let node = doc;
    for (const raw of ref.slice(2).split('/')) {
        const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
        if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
        node = node[key];
    }
    return node;
}

// An object that may be a Reference Object, followed to what it names.
function deref(doc, obj) {
    let seen = 0;
    while (obj && typeof obj === 'object' && typeof obj.$ref === 'string' && seen++ < 16) {
        obj = resolvePointer(doc, obj.$ref);
    }
    return obj;
}

// Every operation of the document as {method, path, op, pathItem}.
function operations(doc) {
    const out = [];
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
        for (const method of HTTP_METHODS) {
            if (item[method]) out.push({ method, path, op: item[method], pathItem: item });
        }
    }
    return out;
}

function opName({ method, path }) {
    return `${method.toUpperCase()} ${path}`;
}

// Path parameters written {id}, {user_id}... all compare equal.
function normalizePath(path) {
    return path.replace(/\{[^}/]*\}/g, '{}');
}

// A deep copy of a schema whose "#/components/schemas/X" references are
// rewritten to absolute URNs Ajv can resolve without the whole document.
function rewriteRefs(node) {
    if (Array.isArray(node)) return node.map(rewriteRefs);
    if (node === null || typeof node !== 'object') return node;
    const out = {};
    for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string' && v.startsWith(SCHEMA_PREFIX)) {
            out[k] = SCHEMA_URN + v.slice(SCHEMA_PREFIX.length);
        } else {
            out[k] = rewriteRefs(v);
        }
    }
    return out;
}

function newAjv() {
    const ajv = new Ajv2020({
        strict: true,
        allowUnionTypes: true, // OAS 3.1 writes nullable as type: [string, 'null']
        // "At least one of" and "not both" are written as required lists in
        // anyOf/not branches whose properties the parent defines; Ajv's
        // strictRequired would flag those, though they are correct.
        strictRequired: false,
        allErrors: true,
        formats: {
            'date-time': /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/i,
            int32: { type: 'number', validate: (n) => Number.isInteger(n) && Math.abs(n) <= 2 ** 31 },
            int64: { type: 'number', validate: Number.isSafeInteger },
        },
    });
    // Annotation keywords of the OpenAPI 3.1 base vocabulary.
    ajv.addVocabulary(['example', 'xml', 'externalDocs', 'discriminator']);
    return ajv;
}

function ajvErrors(errors) {
    return (errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}` +
        (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''));
}

// --- 1. OpenAPI validity ------------------------------------------------

async function checkValid(file) {
    try {
        await new SwaggerParser().validate(file);
        check('document is valid OpenAPI 3.1 (swagger-parser)', []);
    } catch (err) {
        check('document is valid OpenAPI 3.1 (swagger-parser)', [String(err.message ?? err).trim()]);
    }
}

// --- 2. schemas and examples ------------------------------------------

// Inline schemas of parameters, headers and media types, with the examples
// given next to them, as {where, schema, examples: [{where, value}]}.
function collectSchemaSites(doc) {
    const sites = [];
    const visit = (node, where) => {
        if (Array.isArray(node)) {
            node.forEach((v, i) => visit(v, `${where}/${i}`));
            return;
        }
        if (node === null || typeof node !== 'object' || node.$ref) return;
        if (node.schema && typeof node.schema === 'object') {
            const examples = [];
            if ('example' in node) examples.push({ where: `${where}/example`, value: node.example });
            if (node.examples && typeof node.examples === 'object') {
                for (const [name, ex] of Object.entries(node.examples)) {
                    const e = deref(doc, ex);
                    if (e && 'value' in e) examples.push({ where: `${where}/examples/${name}`, value: e.value });
                }
            }
            sites.push({ where, schema: node.schema, examples });
        }
        for (const [k, v] of Object.entries(node)) {
            if (k === 'schema' || k === 'schemas' || k === 'example' || k === 'examples') continue;
            visit(v, `${where}/${k}`);
        }
    };
    visit(doc.paths ?? {}, '#/paths');
    const comps = doc.components ?? {};
    for (const k of ['parameters', 'headers', 'responses', 'requestBodies']) {
        visit(comps[k] ?? {}, `#/components/${k}`);
    }
    return sites;
}

function checkSchemas(doc) {
    const ajv = newAjv();
    const named = doc.components?.schemas ?? {};
    const addProblems = [];
    for (const [name, schema] of Object.entries(named)) {
        try {
            ajv.addSchema({ ...rewriteRefs(schema), $id: SCHEMA_URN + name });
        } catch (err) {
            addProblems.push(`${SCHEMA_PREFIX}${name}: ${err.message}`);
        }
    }
    check('component schemas are valid JSON Schema 2020-12', addProblems);
    if (addProblems.length) {
        const why = ['not run: the component schemas are invalid'];
        check('every schema compiles under Ajv strict mode', why);
        check('every example validates against its schema', why);
        return;
    }

    // Compiling resolves every reference and applies strict mode.
    const compileProblems = [];
    const exampleProblems = [];
    for (const [name, schema] of Object.entries(named)) {
        let validate;
        try {
            validate = ajv.getSchema(SCHEMA_URN + name);
        } catch (err) {
            compileProblems.push(`${SCHEMA_PREFIX}${name}: ${err.message}`);
            continue;
        }
        for (const [i, value] of (schema.examples ?? []).entries()) {
            if (!validate(value)) {
                exampleProblems.push(`${SCHEMA_PREFIX}${name}/examples/${i}: ` +
                    ajvErrors(validate.errors).join('; '));
            }
        }
    }
    const sites = collectSchemaSites(doc);
    for (const site of sites) {
        let validate;
        try {
            validate = ajv.compile(rewriteRefs(site.schema));
        } catch (err) {
            // A broken named schema breaks every site that refers to it;
            // report each distinct message once.
            if (!compileProblems.some((p) => p.endsWith(`: ${err.message}`))) {
                compileProblems.push(`${site.where}/schema: ${err.message}`);
            }
            continue;
        }
        for (const ex of site.examples) {
            if (!validate(ex.value)) {
                exampleProblems.push(`${ex.where}: ${ajvErrors(validate.errors).join('; ')}`);
            }
        }
    }
    check(`every schema compiles under Ajv strict mode (${Object.keys(named).length} named, ` +
        `${sites.length} inline)`, compileProblems);
    check('every example validates against its schema', exampleProblems);
}

// --- 3. contract rules ----------------------------------------------------

// The schemes of a security requirement list, resolved to the operation's
// own or the document's default; [] means anonymous access only.
function securityOf(doc, op) {
    return op.security ?? doc.security ?? [];
}

function isAuthenticated(doc, op) {
    const sec = securityOf(doc, op);
    return sec.length > 0 && !sec.some((req) => Object.keys(req).length === 0);
}

function responseHeaders(doc, resp) {
    const r = deref(doc, resp);
    return r?.headers ?? {};
}

function checkContract(doc) {
    const ops = operations(doc);
    const schemes = doc.components?.securitySchemes ?? {};
    const tagNames = new Set((doc.tags ?? []).map((t) => t.name));

    const idProblems = [];
    const seenIds = new Map();
    for (const o of ops) {
        const id = o.op.operationId;
        if (!id) idProblems.push(`${opName(o)}: no operationId`);
        else if (seenIds.has(id)) idProblems.push(`${opName(o)}: operationId '${id}' also used by ${seenIds.get(id)}`);
        else seenIds.set(id, opName(o));
        if (!o.op.summary) idProblems.push(`${opName(o)}: no summary`);
        for (const t of o.op.tags ?? []) {
            if (!tagNames.has(t)) idProblems.push(`${opName(o)}: tag '${t}' is not declared`);
        }
        if (!o.op.tags?.length) idProblems.push(`${opName(o)}: no tag`);
    }
    check(`${ops.length} operations have a unique operationId, a summary and declared tags`, idProblems);

    const paramProblems = [];
    for (const o of ops) {
        const declared = [...(o.pathItem.parameters ?? []), ...(o.op.parameters ?? [])]
            .map((p) => deref(doc, p));
        const inPath = declared.filter((p) => p?.in === 'path');
        const template = [...o.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        for (const name of template) {
            const p = inPath.find((q) => q.name === name);
            if (!p) paramProblems.push(`${opName(o)}: {${name}} is not declared as a path parameter`);
            else if (p.required !== true) paramProblems.push(`${opName(o)}: path parameter ${name} is not required: true`);
        }
        for (const p of inPath) {
            if (!template.includes(p.name)) paramProblems.push(`${opName(o)}: path parameter ${p.name} is not in the path`);
        }
        // Operation-level parameters override path-level ones by design;
        // only a duplicate within one list is an error.
        for (const list of [o.pathItem.parameters ?? [], o.op.parameters ?? []]) {
            const keys = list.map((p) => deref(doc, p)).map((p) => `${p?.in}:${p?.name}`);
            const dups = keys.filter((k, i) => keys.indexOf(k) !== i);
            if (dups.length) paramProblems.push(`${opName(o)}: duplicate parameters ${dups.join(', ')}`);
        }
    }
    check('path parameters match the path templates', paramProblems);

    const secProblems = [];
    for (const o of ops) {
        for (const req of securityOf(doc, o.op)) {
            for (const name of Object.keys(req)) {
                if (!schemes[name]) secProblems.push(`${opName(o)}: unknown security scheme '${name}'`);
            }
            if (STATE_CHANGING.has(o.method) && 'sessionCookie' in req && !('csrfToken' in req)) {
                secProblems.push(`${opName(o)}: cookie authentication without csrfToken on a state change`);
            }
            if (!STATE_CHANGING.has(o.method) && 'csrfToken' in req) {
                secProblems.push(`${opName(o)}: csrfToken required on a safe method`);
            }
        }
    }
    check('security requirements name declared schemes; cookie state changes need X-CSRF-Token', secProblems);

    const respProblems = [];
    for (const o of ops) {
        const codes = Object.keys(o.op.responses ?? {});
        const need = [];
        if (!codes.some((c) => /^[23]/.test(c))) respProblems.push(`${opName(o)}: no success response`);
        if (isAuthenticated(doc, o.op)) need.push('400', '401', '500', '503');
        if (o.op.requestBody) need.push('400', '413');
        if (/\{[^}]+\}/.test(o.path) && isAuthenticated(doc, o.op)) need.push('404');
        for (const c of new Set(need)) {
            if (!codes.includes(c)) respProblems.push(`${opName(o)}: does not document ${c}`);
        }
        for (const [code, resp] of Object.entries(o.op.responses ?? {})) {
            const r = deref(doc, resp);
            if (!r) {
                respProblems.push(`${opName(o)} ${code}: unresolvable response`);
                continue;
            }
            if (/^[45]/.test(code)) {
                // SCIM (RFC 7644 3.12) answers its own error schema, and the
                // single sign-on pages a person reads answer HTML; an
                // operation says so with x-patd-errors (scim | html).
                const kind = o.op['x-patd-errors'];
                const schema = r.content?.['application/json']?.schema;
                const scim = r.content?.['application/scim+json']?.schema;
                const ok = schema?.$ref === `${SCHEMA_PREFIX}Error` ||
                    (kind === 'scim' && scim?.$ref === `${SCHEMA_PREFIX}ScimError`) ||
                    (kind === 'html' && r.content?.['text/html'] !== undefined);
                if (!ok) {
                    respProblems.push(`${opName(o)} ${code}: error body is not #/components/schemas/Error`);
                }
            }
            if (code === '401' && !responseHeaders(doc, resp)['WWW-Authenticate']) {
                respProblems.push(`${opName(o)} 401: no WWW-Authenticate header`);
            }
            if (code === '429' && !responseHeaders(doc, resp)['Retry-After']) {
                respProblems.push(`${opName(o)} 429: no Retry-After header`);
            }
            if (code === '204' && r.content) {
                respProblems.push(`${opName(o)} 204: has a body`);
            }
        }
    }
    check('operations document the error answers they can give', respProblems);

    // JSON bodies refuse unknown fields. Form bodies (the OAuth endpoints,
    // RFC 7662 and RFC 7009) are flat objects of string fields; they may
    // ignore unknown fields, since those RFCs allow extension parameters.
    const bodyProblems = [];
    for (const o of ops) {
        if (!o.op.requestBody) continue;
        const body = deref(doc, o.op.requestBody);
        const types = Object.keys(body?.content ?? {});
        if (types.length === 0) bodyProblems.push(`${opName(o)}: request body has no media type`);
        for (const type of types) {
            const schema = deref(doc, body.content[type]?.schema);
            if (type === 'application/scim+json' && o.op['x-patd-errors'] === 'scim') {
                // SCIM resources ignore attributes a service does not
                // keep (RFC 7644 3.3), so their schemas stay open.
                if (!schema || schema.type !== 'object') {
                    bodyProblems.push(`${opName(o)}: SCIM request body is not an object schema`);
                }
            } else if (type === JSON_TYPE) {
                if (!schema) {
                    bodyProblems.push(`${opName(o)}: ${type} request body has no schema`);
                } else if (schema.additionalProperties !== false) {
                    bodyProblems.push(`${opName(o)}: request body schema does not refuse unknown fields`);
                }
            } else if (type === FORM_TYPE) {
                if (!schema || schema.type !== 'object' || !schema.properties) {
                    bodyProblems.push(`${opName(o)}: form body schema is not an object with properties`);
                    continue;
                }
                for (const [name, prop] of Object.entries(schema.properties)) {
                    if (deref(doc, prop)?.type !== 'string') {
                        bodyProblems.push(`${opName(o)}: form field '${name}' is not a string`);
                    }
                }
                for (const name of schema.required ?? []) {
                    if (!(name in schema.properties)) {
                        bodyProblems.push(`${opName(o)}: required form field '${name}' is not declared`);
                    }
                }
            } else {
                bodyProblems.push(`${opName(o)}: request body is not ${JSON_TYPE} or ${FORM_TYPE} (${type})`);
            }
        }
    }
    check('request bodies are JSON objects that refuse unknown fields, or forms of string fields', bodyProblems);
}

// --- 4. route parity --------------------------------------------------------

function readRoutes(file) {
    const routes = new Map(); // normalized "METHOD /path" -> as written
    const problems = [];
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
        const text = line.trim();
        if (text === '' || text.startsWith('#')) return;
        const m = /^([A-Z]+)\s+(\/\S*)$/.exec(text);
        if (!m) {
            problems.push(`${file}:${i + 1}: not "METHOD /path": ${JSON.stringify(line)}`);
            return;
        }
        if (!HTTP_METHODS.includes(m[1].toLowerCase())) {
            problems.push(`${file}:${i + 1}: unknown method ${m[1]}`);
            return;
        }
        routes.set(`${m[1]} ${normalizePath(m[2])}`, `${m[1]} ${m[2]}`);
    });
    return { routes, problems };
}

function checkParity(doc, file) {
    let parsed;
    try {
        parsed = readRoutes(file);
    } catch (err) {
        check(`route list ${file} is readable`, [String(err.message ?? err)]);
        return;
    }
    const { routes, problems } = parsed;
    if (routes.size === 0) problems.push(`${file}: no routes`);
    check(`route list has ${routes.size} well-formed routes`, problems);

    const documented = new Map();
    for (const o of operations(doc)) {
        documented.set(`${o.method.toUpperCase()} ${normalizePath(o.path)}`, opName(o));
    }
    const undocumented = [];
    for (const [key, written] of [...routes].sort()) {
        const ok = documented.has(key);
        if (!ok) undocumented.push(written);
        check(`server route ${written} is documented`, ok ? [] : ['no such operation in the document']);
    }
    const unserved = [];
    for (const [key, written] of [...documented].sort()) {
        const ok = routes.has(key);
        if (!ok) unserved.push(written);
        check(`operation ${written} is served`, ok ? [] : ['the server does not register this route']);
    }
    if (undocumented.length || unserved.length) {
        console.log('route differences:');
        for (const r of undocumented) console.log(`  + ${r}    (served, not documented)`);
        for (const r of unserved) console.log(`  - ${r}    (documented, not served)`);
    }
}

// --- main -------------------------------------------------------------------

async function main() {
    const [file, routesFile, ...rest] = process.argv.slice(2);
    if (!file || rest.length) {
        console.error('usage: node tests/openapi/validate.mjs OPENAPI.yaml [ROUTES.txt]');
        process.exit(2);
    }
    await checkValid(file);

    let doc;
    try {
        doc = await new SwaggerParser().parse(file);
        check('document parses', []);
    } catch (err) {
        check('document parses', [String(err.message ?? err)]);
        finish();
    }
    checkSchemas(doc);
    checkContract(doc);
    if (routesFile) checkParity(doc, routesFile);
    finish();
}

main().catch((err) => {
    console.error(err?.stack ?? String(err));
    console.log(`${passed} passed, ${failed + 1} failed`);
    process.exit(1);
});
