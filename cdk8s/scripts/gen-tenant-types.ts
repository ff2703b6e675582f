// Writes src/operator/tenant-types.generated.ts from the CRD schema (see src/operator/tenant-types-generator.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateTenantTypes } from '../src/operator/tenant-types-generator';

const target = join(__dirname, '..', 'src', 'operator', 'tenant-types.generated.ts');
writeFileSync(target, generateTenantTypes());
process.stdout.write(`wrote ${target}\n`);
