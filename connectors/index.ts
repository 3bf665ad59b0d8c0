import { rest } from './rest';
import { salesforce } from './salesforce';
import { slack } from './slack';
import type { Connector } from './types';
import { webhook } from './webhook';

/** Built-in connectors by name; a route's `connector` must name one of these. */
export const connectors: Record<string, Connector<unknown>> = {
  webhook: webhook as Connector<unknown>,
  rest: rest as Connector<unknown>,
  salesforce: salesforce as Connector<unknown>,
  slack: slack as Connector<unknown>,
};

export type { Connector, DeliveryEvent, Outcome } from './types';
