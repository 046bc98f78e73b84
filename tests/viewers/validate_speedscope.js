#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Validate a speedscope file against the file-format schema shipped in speedscope's own npm
// package (the schema the viewer is built from), then check what the schema cannot express:
// frame indices in range, one weight per sample, endValue consistent with the weights.
// Usage: node validate_speedscope.js FILE...   Exit 0 when every FILE is valid, 1 when one is
// not (messages on stderr), 2 on a usage or setup error.
'use strict';

const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');

// Locate the schema through the package itself, so an upgrade that moves it fails loudly.
function loadSchema() {
	const pkgDir = path.dirname(require.resolve('speedscope/package.json'));
	const candidates = [
		path.join(pkgDir, 'dist', 'release', 'file-format-schema.json'),
		path.join(pkgDir, 'dist', 'file-format-schema.json'),
		path.join(pkgDir, 'file-format-schema.json'),
	];
	for (const c of candidates) {
		if (fs.existsSync(c))
			return { file: c, schema: JSON.parse(fs.readFileSync(c, 'utf8')) };
	}
	throw new Error(`file-format-schema.json not found under ${pkgDir}`);
}

// Checks beyond the schema. Returns a list of messages (empty when fine).
function semanticErrors(doc) {
	const errs = [];
	const nframes = doc.shared.frames.length;
	doc.profiles.forEach((prof, pi) => {
		const where = `profiles[${pi}] (${JSON.stringify(prof.name)})`;
		if (prof.type !== 'sampled')
			return;
		if (prof.samples.length !== prof.weights.length)
			errs.push(`${where}: ${prof.samples.length} samples but ${prof.weights.length} weights`);
		prof.samples.forEach((stack, si) => {
			for (const f of stack) {
				if (!Number.isInteger(f) || f < 0 || f >= nframes)
					errs.push(`${where}: samples[${si}] refers to frame ${f}, have ${nframes}`);
			}
		});
		let sum = 0;
		prof.weights.forEach((w, wi) => {
			if (!(w >= 0))
				errs.push(`${where}: weights[${wi}] = ${w} is negative`);
			sum += w;
		});
		if (prof.endValue < prof.startValue)
			errs.push(`${where}: endValue ${prof.endValue} < startValue ${prof.startValue}`);
		if (prof.endValue - prof.startValue < sum)
			errs.push(`${where}: weights sum to ${sum}, beyond endValue - startValue`);
	});
	if (doc.activeProfileIndex !== undefined &&
	    !(Number.isInteger(doc.activeProfileIndex) && doc.activeProfileIndex >= 0 &&
	      doc.activeProfileIndex < doc.profiles.length))
		errs.push(`activeProfileIndex ${doc.activeProfileIndex} out of range`);
	return errs;
}

function main(argv) {
	if (argv.length < 1) {
		process.stderr.write('usage: validate_speedscope.js FILE...\n');
		return 2;
	}
	let schema;
	try {
		schema = loadSchema();
	} catch (e) {
		process.stderr.write(`validate_speedscope: ${e.message}\n`);
		return 2;
	}
	const ajv = new Ajv({ allErrors: true, strict: false });
	const validate = ajv.compile(schema.schema);
	let bad = 0;
	for (const file of argv) {
		let doc;
		try {
			doc = JSON.parse(fs.readFileSync(file, 'utf8'));
		} catch (e) {
			process.stderr.write(`${file}: not JSON: ${e.message}\n`);
			bad++;
			continue;
		}
		if (!validate(doc)) {
			for (const e of validate.errors)
				process.stderr.write(`${file}: schema: ${e.instancePath || '/'} ${e.message}\n`);
			bad++;
			continue;
		}
		const errs = semanticErrors(doc);
		if (errs.length) {
			for (const m of errs)
				process.stderr.write(`${file}: ${m}\n`);
			bad++;
			continue;
		}
		process.stdout.write(`${file}: valid (${doc.profiles.length} profiles, ` +
				     `${doc.shared.frames.length} frames; schema ${schema.file})\n`);
	}
	return bad ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
