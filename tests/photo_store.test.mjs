// Photos in an S3-compatible store (issue 15): a real danvan-server process started with
// `--blobs s3://bucket/prefix` and the usual AWS_* variables, against s3rver (an S3 API server in
// Node, on 127.0.0.1) standing in for the production bucket.
//
// A chunked upload lands in the bucket under the prefix and reads back whole; with the store down
// the last chunk gets 503 and the server keeps every byte sent; with the store back the phone's
// retry of that chunk stores the photo; `blobs copy --to s3://…` moves a data folder's photos
// into the bucket.
//
//   DANVAN_SERVER_BIN=../target/debug/danvan-server node --test photo_store.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import S3rver from 's3rver';
import { freePort, login, printServerOutput, removeDir, serverBin, startServer, tempDataDir } from './lib/server.mjs';

const execFileAsync = promisify(execFile);
const BUCKET = 'danvan-photos';
const PREFIX = 'tinh-lam-dong/anh';

async function startS3(dir, port) {
  const s3 = new S3rver({ port, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: BUCKET }] });
  await s3.run();
  return s3;
}

async function putChunk(url, token, hash, data, start, end) {
  return await fetch(`${url}/api/blobs/${hash}`, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/octet-stream',
      'content-range': `bytes ${start}-${end - 1}/${data.length}`,
    },
    body: data.subarray(start, end),
  });
}

test('photos go to an S3 bucket, and an upload survives the bucket being down', { timeout: 120_000 }, async () => {
  const dataDir = await tempDataDir('danvan-s3-');
  const s3Dir = await tempDataDir('danvan-s3-bucket-');
  const s3Port = await freePort();
  let s3 = await startS3(s3Dir, s3Port);
  const s3Env = {
    AWS_ENDPOINT: `http://127.0.0.1:${s3Port}`,
    AWS_ALLOW_HTTP: 'true',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
  let server;
  try {
    server = await startServer({
      dataDir,
      extraArgs: ['--blobs', `s3://${BUCKET}/${PREFIX}`],
      env: s3Env,
    });
    const { token } = await login(server.url, 'kadon');
    // JPEG magic, then noise: a photo as the phone sends it.
    const photo = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(200_000)]);
    const hash = createHash('sha256').update(photo).digest('hex');

    let res = await putChunk(server.url, token, hash, photo, 0, 120_000);
    assert.equal(res.status, 202);
    res = await putChunk(server.url, token, hash, photo, 120_000, photo.length);
    assert.equal(res.status, 201, await res.text());
    const inBucket = await readFile(path.join(s3Dir, BUCKET, PREFIX, hash.slice(0, 2), `${hash}._S3rver_object`));
    assert.ok(inBucket.equals(photo), 'the bucket holds the photo under the prefix');
    res = await fetch(`${server.url}/api/blobs/${hash}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(photo));

    // The bucket goes away mid-upload.
    const second = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(90_000)]);
    const hash2 = createHash('sha256').update(second).digest('hex');
    res = await putChunk(server.url, token, hash2, second, 0, 50_000);
    assert.equal(res.status, 202);
    await s3.close();
    res = await putChunk(server.url, token, hash2, second, 50_000, second.length);
    assert.equal(res.status, 503, await res.text());
    assert.equal(res.headers.get('retry-after'), '30');
    res = await fetch(`${server.url}/api/blobs/${hash2}/status`, { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(await res.json(), { sha256: hash2, complete: false, offset: second.length, total: second.length });

    // Back: the phone sends its last chunk again and the photo is stored.
    s3 = await startS3(s3Dir, s3Port);
    res = await putChunk(server.url, token, hash2, second, 50_000, second.length);
    assert.equal(res.status, 201, await res.text());
    res = await fetch(`${server.url}/api/blobs/${hash2}`, { headers: { authorization: `Bearer ${token}` } });
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(second));

    // A deployment with its photos in the data folder moves them to the bucket: `blobs copy`.
    await server.stop();
    server = null;
    const localDir = await tempDataDir('danvan-s3-local-');
    try {
      const local = await startServer({ dataDir: localDir });
      const kadon = await login(local.url, 'kadon');
      const third = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(70_000)]);
      const hash3 = createHash('sha256').update(third).digest('hex');
      res = await fetch(`${local.url}/api/blobs/${hash3}`, { method: 'PUT', headers: { authorization: `Bearer ${kadon.token}` }, body: third });
      assert.equal(res.status, 201);
      await local.stop();
      // Not spawnSync: s3rver answers from this very process, which must keep running.
      const copy = await execFileAsync(serverBin(), ['--data-dir', localDir, 'blobs', 'copy', '--to', `s3://${BUCKET}/moved`], {
        env: { ...process.env, ...s3Env },
      });
      assert.match(copy.stdout, /^1 photos/);
      const moved = await readFile(path.join(s3Dir, BUCKET, 'moved', hash3.slice(0, 2), `${hash3}._S3rver_object`));
      assert.ok(moved.equals(third), 'the bucket holds the copied photo');
    } finally {
      await removeDir(localDir);
    }
  } catch (e) {
    printServerOutput();
    throw e;
  } finally {
    await server?.stop();
    await s3.close().catch(() => {});
    await removeDir(dataDir);
    await removeDir(s3Dir);
  }
});
