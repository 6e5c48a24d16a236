import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/** Where `mlog` reads a password from: standard input (--password-stdin) or a prompt on the terminal. */
export interface PasswordInput {
  /** Everything on standard input, without its final line break. */
  readStdin(): Promise<string>;
  /** True when standard input is a terminal (a prompt can be shown). */
  interactive: boolean;
  /** Asks on the terminal with echo off. */
  prompt(question: string): Promise<string>;
}

/** The process's own standard input and terminal. */
export function processPasswordInput(): PasswordInput {
  return {
    interactive: process.stdin.isTTY === true,
    async readStdin() {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
    },
    prompt(question) {
      let muted = false;
      const echo = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          if (!muted) process.stderr.write(chunk);
          callback();
        },
      });
      const reader = createInterface({ input: process.stdin, output: echo, terminal: true });
      return new Promise((resolve) => {
        reader.question(question, (answer) => {
          reader.close();
          process.stderr.write('\n');
          resolve(answer);
        });
        muted = true;
      });
    },
  };
}
