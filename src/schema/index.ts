import { builder } from './builder.js';
import { guardArguments } from './shared/argument-guard.js';
import { limitSubscriptionCost } from './shared/operation-cost.js';
import './shared/enums.js';
import './viewer/viewer.type.js';
import './member/member.type.js';
import './project/project.type.js';
import './project/project.queries.js';
import './project/project.mutations.js';
import './task/task.type.js';
import './task/task.queries.js';
import './task/task.mutations.js';
import './comment/comment.type.js';
import './comment/comment.mutations.js';
import './comment/comment.subscriptions.js';
import './task/task.subscriptions.js';
import './project/project.subscriptions.js';

export const schema = limitSubscriptionCost(guardArguments(builder.toSchema({ sortSchema: true })));
