import type { Connector } from './types';
import { webhook } from './webhook';

/** Built-in connectors by name; a route's `connector` must name one of these. */
export const connectors: Record<string, Connector<unknown>> = {
  webhook: webhook as Connector<unknown>,
};

export type { Connector, DeliveryEvent, Outcome } from './types';
