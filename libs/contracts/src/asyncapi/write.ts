import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderAsyncApi } from './generate';
import { ASYNCAPI_PATH, contractsVersion } from './location';

const target = path.resolve(ASYNCAPI_PATH);
writeFileSync(target, renderAsyncApi(contractsVersion()));
process.stdout.write(`wrote ${target}\n`);
