// The Kafka cluster panel from GET /api/cluster: reachability (loudly when lost), brokers with
// Take down / Bring up for the embedded cluster, and each topic's partitions with leader, replicas
// and in-sync replicas.

import { request } from './api.js';
import { el } from './dom.js';

export class cluster_view {
  constructor({ alert, brokers, topics, badge }, { notify, refresh_soon }) {
    this.alert_ = alert;
    this.brokers_ = brokers;
    this.topics_ = topics;
    this.badge_ = badge;
    this.notify_ = notify;
    this.refresh_soon_ = refresh_soon;
    this.pending_ = new Set();  // broker ids with a request in flight
    this.signature_ = '';       // what is on screen, to skip redrawing the same
  }

  async refresh() {
    let cluster;
    try {
      cluster = await request('GET', '/api/cluster');
    } catch (err) {
      this.show_alert_(`Cluster view unavailable: ${err.message}`);
      this.signature_ = '';  // redraw (and drop this alert) with the next answer
      throw err;
    }
    this.render_(cluster);
  }

  // The push stream's metrics carry reachability every second; the badge follows it.
  // waiting: it answers, but the pipeline waits for it (too few brokers for the topics' replicas).
  set_reachable(reachable, waiting = false) {
    const [text, kind] = !reachable ? ['kafka unreachable', 'bad'] : waiting ? ['kafka waiting', 'warn'] : ['kafka ok', 'ok'];
    this.badge_.textContent = text;
    this.badge_.className = `badge ${kind}`;
  }

  show_alert_(text, waiting = false) {
    this.alert_.textContent = text;
    this.alert_.hidden = !text;
    this.alert_.classList.toggle('waiting', waiting);
  }

  render_(cluster) {
    // Rebuilding unchanged rows every poll would take focus and hover from their buttons.
    const signature = JSON.stringify([cluster, [...this.pending_]]);
    if (signature === this.signature_) return;
    this.signature_ = signature;
    if (!cluster.checked) {
      this.show_alert_('');
      this.badge_.textContent = 'kafka …';
      this.badge_.className = 'badge idle';
    } else {
      this.set_reachable(cluster.reachable, Boolean(cluster.waiting));
      this.show_alert_(!cluster.reachable ? `UNREACHABLE${cluster.error ? `: ${cluster.error}` : ''}`
                       : cluster.waiting ? `WAITING: ${cluster.waiting}` : '', Boolean(cluster.reachable && cluster.waiting));
    }
    this.render_brokers_(cluster.brokers || [], cluster.embedded);
    this.render_topics_(cluster.topics || []);
  }

  render_brokers_(brokers, embedded) {
    this.brokers_.replaceChildren(...brokers.map((broker) => {
      const item = el('li', 'broker');
      item.dataset.broker = broker.id;
      item.append(el('span', 'broker-id', `broker ${broker.id}`),
                  el('span', 'address', broker.address),
                  el('span', `state ${broker.up ? 'ok' : 'bad'}`, broker.up ? 'up' : 'down'));
      if (embedded) {
        const button = el('button', broker.up ? 'danger' : '', broker.up ? 'Take down' : 'Bring up');
        button.type = 'button';
        button.disabled = this.pending_.has(broker.id);
        button.addEventListener('click', () => {
          button.disabled = true;
          this.switch_(broker.id, !broker.up);
        });
        item.append(button);
      }
      return item;
    }));
  }

  render_topics_(topics) {
    this.topics_.replaceChildren(...topics.map((topic) => {
      const box = el('div', 'topic');
      const under = topic.partitions.filter((p) => p.under_replicated).length;
      const head = el('h3', '', topic.name);
      if (under) head.append(el('span', 'state warn', `${under} under-replicated`));
      const table = el('table', 'data');
      const thead = el('thead');
      const header = el('tr');
      for (const [name, cls] of [['partition', 'num'], ['leader', 'num'], ['replicas', ''], ['in sync', '']])
        header.append(el('th', cls, name));
      thead.append(header);
      const body = el('tbody');
      for (const p of topic.partitions) {
        const row = el('tr', p.under_replicated ? 'under' : '');
        const leader = p.leader === null || p.leader < 0 ? 'none' : p.leader;
        row.append(el('td', 'num', p.partition), el('td', `num${leader === 'none' ? ' bad' : ''}`, leader),
                   el('td', 'list', (p.replicas || []).join(', ')), el('td', 'list', (p.isr || []).join(', ')));
        if (p.under_replicated) row.title = 'under-replicated: fewer replicas in sync than assigned';
        body.append(row);
      }
      table.append(thead, body);
      box.append(head, table);
      return box;
    }));
  }

  async switch_(id, up) {
    this.pending_.add(id);
    try {
      await request('POST', `/api/cluster/brokers/${encodeURIComponent(id)}/${up ? 'start' : 'stop'}`);
      this.notify_('');
    } catch (err) {
      this.notify_(`Could not ${up ? 'bring up' : 'take down'} broker ${id}: ${err.message}`);
    } finally {
      this.pending_.delete(id);
      this.signature_ = '';
      this.refresh_soon_();
    }
  }
}
