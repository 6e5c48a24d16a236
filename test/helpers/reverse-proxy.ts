/**
 * Debian's nginx as a reverse proxy that ends mutual TLS in front of MLog, configured as
 * docs/deployment.md shows: it asks for the client certificate (any issuer: MLog judges it, and
 * answers and records a refusal as on its own TLS), forwards it URL-encoded in X-SSL-Client-Cert,
 * appends the client's address to X-Forwarded-For, and calls MLog over HTTPS, checking its server
 * certificate. Started by the tests with a configuration they write; runs until stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../scripts/mlog-child-process.js';

export const NGINX = '/usr/sbin/nginx';

export interface ReverseProxy {
  port: number;
  stop(): Promise<void>;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startNginx(options: { dir: string; mlogPort: number; caPath: string; serverCertPath: string; serverKeyPath: string }): Promise<ReverseProxy> {
  const port = await freePort();
  const prefix = join(options.dir, 'nginx');
  mkdirSync(join(prefix, 'temp'), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    [
      // As root, nginx's workers would switch to "nobody", who may not read the test's keys.
      ...(process.getuid?.() === 0 ? ['user root;'] : []),
      'worker_processes 1;',
      `pid ${join(prefix, 'nginx.pid')};`,
      `error_log ${join(prefix, 'error.log')} warn;`,
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${join(prefix, 'temp', 'body')};`,
      `  proxy_temp_path ${join(prefix, 'temp', 'proxy')};`,
      `  fastcgi_temp_path ${join(prefix, 'temp', 'fastcgi')};`,
      `  uwsgi_temp_path ${join(prefix, 'temp', 'uwsgi')};`,
      `  scgi_temp_path ${join(prefix, 'temp', 'scgi')};`,
      '  server {',
      `    listen 127.0.0.1:${port} ssl;`,
      `    ssl_certificate ${options.serverCertPath};`,
      `    ssl_certificate_key ${options.serverKeyPath};`,
      '    ssl_verify_client optional_no_ca;',
      '    client_max_body_size 1m;',
      '    location / {',
      `      proxy_pass https://127.0.0.1:${options.mlogPort};`,
      '      proxy_ssl_verify on;',
      `      proxy_ssl_trusted_certificate ${options.caPath};`,
      '      proxy_ssl_name localhost;',
      '      proxy_ssl_server_name on;',
      '      proxy_http_version 1.1;',
      '      proxy_set_header Connection "";',
      '      proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;',
      '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
      '    }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(NGINX, ['-p', prefix, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let attempt = 0; !(await listening(port)); attempt++) {
    if (attempt > 100 || child.exitCode !== null) {
      child.kill('SIGKILL');
      let log = '';
      try {
        log = readFileSync(join(prefix, 'error.log'), 'utf8');
      } catch {
        // no log written
      }
      throw new Error(`nginx did not listen on ${port}: ${stderr}${log}`);
    }
    await sleep(100);
  }
  return {
    port,
    async stop() {
      // QUIT: nginx finishes the requests it is serving, then exits.
      child.kill('SIGQUIT');
      await Promise.race([exited, sleep(5_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}
