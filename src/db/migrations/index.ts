import { Initial1000000000001 } from './0001-initial';
import { Capture1000000000002 } from './0002-capture';
import { DrainRetention1000000000003 } from './0003-drain-retention';
import { Planner1000000000004 } from './0004-planner';
import { CaptureJournal1000000000005 } from './0005-capture-journal';
import { SharedPayload1000000000006 } from './0006-shared-payload';
import { DrainReadyIndex1000000000007 } from './0007-drain-ready-index';
import { CaptureNoNotify1000000000008 } from './0008-capture-no-notify';
import { PlannerForesight1000000000009 } from './0009-planner-foresight';
import { EnqueueTickets1000000000010 } from './0010-enqueue-tickets';
import { RouteFilter1000000000011 } from './0011-route-filter';
import { RouteRegistry1000000000012 } from './0012-route-registry';
import { OwnSchema1000000000014 } from './0014-own-schema';
import { AttemptLog1000000000015 } from './0015-attempt-log';
import { CaptureJournalLsn1000000000016 } from './0016-capture-journal-lsn';
import { Lanes1000000000017 } from './0017-lanes';
import { OrderedEventIds1000000000020 } from './0020-ordered-event-ids';
import { EnqueueCachedPlans1000000000021 } from './0021-enqueue-cached-plans';
import { SettlePinnedPlan1000000000022 } from './0022-settle-pinned-plan';
import { HeldRowsIndex1000000000023 } from './0023-held-rows-index';

/** Append-only, in order. A new migration gets the next number in its file name and class timestamp. */
export const migrations = [
  Initial1000000000001,
  Capture1000000000002,
  DrainRetention1000000000003,
  Planner1000000000004,
  CaptureJournal1000000000005,
  SharedPayload1000000000006,
  DrainReadyIndex1000000000007,
  CaptureNoNotify1000000000008,
  PlannerForesight1000000000009,
  EnqueueTickets1000000000010,
  RouteFilter1000000000011,
  RouteRegistry1000000000012,
  OwnSchema1000000000014,
  AttemptLog1000000000015,
  CaptureJournalLsn1000000000016,
  Lanes1000000000017,
  OrderedEventIds1000000000020,
  EnqueueCachedPlans1000000000021,
  SettlePinnedPlan1000000000022,
  HeldRowsIndex1000000000023,
];
