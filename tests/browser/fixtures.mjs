// Long media for the browser test's seek checks, made at test time from
// nothing but node's standard library (no ffmpeg):
//
//   node fixtures.mjs OUT_DIR SAMPLE_MP4
//
// writes two resource folders into OUT_DIR, next to a copy of samples/v1:
//
//   fixture-long-video/  long.mp4: SAMPLE_MP4 (H.264 + AAC, 3 s) remuxed
//                        COPIES times back to back: the same coded frames,
//                        new sample tables, one mdat; about 15 minutes, a few MB
//   fixture-long-audio/  tones.wav: 16-bit mono PCM, 8 kHz, a different tone
//                        every second, five minutes, about 4.8 MB
//
// Both are far bigger than what Chromium reads ahead for preload=metadata,
// so a seek near the end must be a new Range request starting past byte 0.
// The sample's every copy starts with an IDR frame, so each repetition
// decodes on its own; the audio's encoder priming repeats with it (a click
// every 3 s: harmless for a test).
import fs from 'node:fs';
import path from 'node:path';

export const VIDEO_ID = 'fixture-long-video';
export const AUDIO_ID = 'fixture-long-audio';
const COPIES = 300;
const WAV_RATE = 8000;
const WAV_SECONDS = 300;

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts']);

function parse(buf, start, end) {
  const out = [];
  let o = start;
  while (o < end) {
    if (end - o < 8) throw new Error(`truncated box at ${o}`);
    let size = buf.readUInt32BE(o);
    const type = buf.toString('latin1', o + 4, o + 8);
    let hdr = 8;
    if (size === 1) { size = Number(buf.readBigUInt64BE(o + 8)); hdr = 16; } else if (size === 0) size = end - o;
    if (size < hdr || o + size > end) throw new Error(`bad box ${type} at ${o}`);
    const box = { type, start: o, dataStart: o + hdr, end: o + size };
    if (CONTAINERS.has(type)) box.children = parse(buf, o + hdr, o + size);
    else box.data = buf.subarray(o + hdr, o + size);
    out.push(box);
    o += size;
  }
  return out;
}
function serialize(box) {
  const body = box.children ? Buffer.concat(box.children.map(serialize)) : box.data;
  const h = Buffer.alloc(8);
  h.writeUInt32BE(8 + body.length, 0);
  h.write(box.type, 4, 'latin1');
  return Buffer.concat([h, body]);
}
const find = (boxes, type) => boxes.find((b) => b.type === type);
function need(boxes, type) {
  const b = find(boxes, type);
  if (!b) throw new Error(`no ${type} box`);
  return b;
}
// A full box's table of fixed-size entries: [version/flags + prefix] count entries.
function table(data, prefix, width) {
  const n = data.readUInt32BE(4 + prefix);
  const rows = [];
  for (let i = 0; i < n; i++) {
    const row = [];
    for (let j = 0; j < width; j++) row.push(data.readUInt32BE(8 + prefix + (i * width + j) * 4));
    rows.push(row);
  }
  return rows;
}
function mktable(head, rows) {
  const b = Buffer.alloc(head.length + 4 + rows.length * (rows[0] ? rows[0].length : 0) * 4);
  head.copy(b, 0);
  b.writeUInt32BE(rows.length, head.length);
  let o = head.length + 4;
  for (const r of rows) for (const v of r) { b.writeUInt32BE(v >>> 0, o); o += 4; }
  return b;
}
function v0(box) {
  if (box.data[0] !== 0) throw new Error(`${box.type}: only version 0 is handled`);
  return box.data;
}

// The sample's moov and mdat rebuilt with every track's samples repeated
// `copies` times.  Returns the new file.
export function repeatMp4(src, copies) {
  const top = parse(src, 0, src.length);
  const moov = need(top, 'moov');
  const mdat = need(top, 'mdat');
  const payload = src.subarray(mdat.dataStart, mdat.end);
  const mvhd = v0(need(moov.children, 'mvhd'));
  const movieScale = mvhd.readUInt32BE(12);
  let movieDur = 0;
  const stcos = [];
  for (const trak of moov.children.filter((b) => b.type === 'trak')) {
    const mdia = need(trak.children, 'mdia');
    const mdhd = v0(need(mdia.children, 'mdhd'));
    const stbl = need(need(mdia.children, 'minf').children, 'stbl');
    const kids = stbl.children;
    const head = (b, prefix = 0) => b.data.subarray(0, 4 + prefix);
    // sizes and times
    const stsz = need(kids, 'stsz');
    if (stsz.data.readUInt32BE(4) !== 0) throw new Error('stsz: constant sample size is not handled');
    const sizes = table(stsz.data, 4, 1);
    const nsamples = sizes.length;
    stsz.data = mktable(head(stsz, 4), Array(copies).fill(sizes).flat());
    const stts = need(kids, 'stts');
    const times = table(stts.data, 0, 2);
    const mediaDur = times.reduce((s, [n, d]) => s + n * d, 0);
    stts.data = mktable(head(stts), Array(copies).fill(times).flat());
    for (const t of ['ctts', 'sbgp']) {
      const b = find(kids, t);
      if (!b) continue;
      const prefix = t === 'sbgp' ? 4 + (b.data[0] === 1 ? 4 : 0) : 0;
      b.data = mktable(head(b, prefix), Array(copies).fill(table(b.data, prefix, 2)).flat());
    }
    const stss = find(kids, 'stss');
    if (stss) {
      const sync = table(stss.data, 0, 1);
      const rows = [];
      for (let k = 0; k < copies; k++) for (const [s] of sync) rows.push([s + k * nsamples]);
      stss.data = mktable(head(stss), rows);
    }
    const stco = find(kids, 'stco');
    if (!stco) throw new Error('no stco (co64 is not handled)');
    const offs = table(stco.data, 0, 1).map(([o]) => o);
    for (const o of offs) if (o < mdat.dataStart || o >= mdat.end) throw new Error('a chunk lies outside the mdat');
    const stsc = need(kids, 'stsc');
    const runs = table(stsc.data, 0, 3);
    const rows = [];
    for (let k = 0; k < copies; k++) for (const [first, per, sd] of runs) rows.push([first + k * offs.length, per, sd]);
    stsc.data = mktable(head(stsc), rows);
    stcos.push({ box: stco, offs });
    stco.data = mktable(head(stco), Array(copies * offs.length).fill([0])); // filled in below
    // durations: media, then the edit list and track in movie time
    const newMediaDur = mediaDur * copies;
    if (newMediaDur > 0xffffffff) throw new Error('too long for a version 0 mdhd');
    mdhd.writeUInt32BE(newMediaDur, 16);
    const mediaScale = mdhd.readUInt32BE(12);
    let trackDur = Math.round(newMediaDur * movieScale / mediaScale);
    const edts = find(trak.children, 'edts');
    if (edts) {
      const elst = v0(need(edts.children, 'elst'));
      if (elst.readUInt32BE(4) !== 1) throw new Error('elst: only one edit is handled');
      const mediaTime = elst.readInt32BE(12);
      trackDur = Math.round((newMediaDur - Math.max(mediaTime, 0)) * movieScale / mediaScale);
      elst.writeUInt32BE(trackDur, 8);
    }
    v0(need(trak.children, 'tkhd')).writeUInt32BE(trackDur, 20);
    movieDur = Math.max(movieDur, trackDur);
  }
  mvhd.writeUInt32BE(movieDur, 16);
  // Lay out ftyp, moov, mdat; the chunk offsets depend on moov's size,
  // which does not depend on their values.
  const ftyp = need(top, 'ftyp');
  const ftypBytes = src.subarray(ftyp.start, ftyp.end);
  const moovLen = serialize(moov).length;
  const dataStart = ftypBytes.length + moovLen + 8;
  for (const { box, offs } of stcos) {
    const rows = [];
    for (let k = 0; k < copies; k++) for (const o of offs) rows.push([dataStart + k * payload.length + (o - mdat.dataStart)]);
    box.data = mktable(box.data.subarray(0, 4), rows);
  }
  const moovBytes = serialize(moov);
  if (moovBytes.length !== moovLen) throw new Error('moov changed size');
  const body = Buffer.concat(Array(copies).fill(payload));
  if (8 + body.length > 0xffffffff) throw new Error('mdat too large');
  return Buffer.concat([ftypBytes, moovBytes, serialize({ type: 'mdat', data: body })]);
}

// 16-bit mono PCM WAV: a different tone each second (so a listener hears
// where a seek landed).
export function makeWav(seconds, rate) {
  const n = seconds * rate;
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0, 'latin1'); b.writeUInt32LE(36 + n * 2, 4); b.write('WAVE', 8, 'latin1');
  b.write('fmt ', 12, 'latin1'); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24); b.writeUInt32LE(rate * 2, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36, 'latin1'); b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) {
    const f = 220 + 20 * (Math.floor(i / rate) % 40);
    b.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * f * i / rate)), 44 + i * 2);
  }
  return b;
}

function resource(id, type, entry, zh, en, desc) {
  return {
    id, title: { zh, en }, description: { zh: desc, en: desc }, language: 'en', subject: 'physics', grades: [10],
    type, entry, license: 'CC0-1.0', publisher: 'Cistern browser test', keywords: ['fixture'], prerequisites: [],
  };
}
function write(dir, meta, name, bytes) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'resource.json'), JSON.stringify(meta, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, name), bytes);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const [out, sample] = process.argv.slice(2);
  if (!out || !sample) {
    console.error('usage: node fixtures.mjs OUT_DIR SAMPLE_MP4');
    process.exit(2);
  }
  const mp4 = repeatMp4(fs.readFileSync(sample), COPIES);
  write(path.join(out, VIDEO_ID), resource(VIDEO_ID, 'video', 'long.mp4', '测试用长视频', 'Long test video',
    `browser test fixture: the sample video ${COPIES} times`), 'long.mp4', mp4);
  const wav = makeWav(WAV_SECONDS, WAV_RATE);
  write(path.join(out, AUDIO_ID), resource(AUDIO_ID, 'audio', 'tones.wav', '测试用长音频', 'Long test audio',
    `browser test fixture: ${WAV_SECONDS} s of tones`), 'tones.wav', wav);
  console.log(`fixtures: ${VIDEO_ID}/long.mp4 ${mp4.length} bytes, ${AUDIO_ID}/tones.wav ${wav.length} bytes`);
}
