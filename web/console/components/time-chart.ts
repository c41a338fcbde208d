/** A time-series chart drawn by uPlot; the component only feeds it data and its width. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from '../html.ts';

export interface Series {
  readonly label: string;
  readonly color: string;
  readonly values: readonly (number | null)[];
}

export function TimeChart(props: { title: string; times: readonly number[]; series: readonly Series[]; unit?: string; testId?: string }) {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join('|');

  useEffect(() => {
    if (!host.current) return;
    const options: uPlot.Options = {
      width: Math.max(280, host.current.clientWidth),
      height: 180,
      series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: false } }))],
      axes: [{}, { label: props.unit ?? '', size: 50 }],
      scales: { x: { time: true }, y: { range: (_u: uPlot, _min: number, max: number) => [0, Math.max(1, max * 1.1)] } },
      legend: { live: false },
    };
    chart.current = new uPlot(options, toData(props), host.current);
    const resize = () => host.current && chart.current?.setSize({ width: Math.max(280, host.current.clientWidth), height: 180 });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.current?.destroy();
      chart.current = null;
    };
  }, [shape]);

  useEffect(() => {
    chart.current?.setData(toData(props));
  }, [props.times, props.series]);

  return html`<figure class="chart" data-testid=${props.testId}>
    <figcaption>${props.title}</figcaption>
    <div ref=${host}></div>
  </figure>`;
}

function toData(props: { times: readonly number[]; series: readonly Series[] }): uPlot.AlignedData {
  // uPlot's x values are seconds.
  return [props.times.map((t) => t / 1000), ...props.series.map((s) => [...s.values])] as uPlot.AlignedData;
}
