import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageFile } from '../../lib/package-root';

const run = promisify(execFile);
const POM = packageFile('src/infra/kafka/pom.xml');

/**
 * Copies the broker's runtime jars from Maven Central into `<cacheDir>/libs` once. A marker holding
 * the pom's hash says the folder is complete; a changed pom or an interrupted copy fetches again.
 */
export async function ensureKafkaJars(cacheDir: string): Promise<string> {
  const libs = join(cacheDir, 'libs');
  if (kafkaJarsCached(cacheDir)) return libs;
  rmSync(libs, { recursive: true, force: true });
  mkdirSync(libs, { recursive: true });
  try {
    await run(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        POM,
        'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies',
        `-DoutputDirectory=${libs}`,
        '-DincludeScope=runtime',
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `fetching the Kafka broker jars with Maven failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`,
    );
  }
  writeFileSync(join(cacheDir, 'libs.complete'), pomHash());
  return libs;
}

const pomHash = () => createHash('sha256').update(readFileSync(POM)).digest('hex');

/** True when `<cacheDir>/libs` holds the jars of the current pom (no download needed). */
export function kafkaJarsCached(cacheDir: string): boolean {
  const marker = join(cacheDir, 'libs.complete');
  return existsSync(marker) && readFileSync(marker, 'utf8') === pomHash();
}
