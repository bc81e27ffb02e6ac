/**
 * The GraphQL operations of the CLI's ApiGateway. `npm run codegen` turns them into
 * typed documents in src/client/gql (run it after changing one).
 */
import { graphql } from "../../client/gql/index.js";

export const CliTaskFields = graphql(`
  fragment CliTaskFields on Task {
    id
    treeId
    parent {
      id
    }
    name
    executor
    status
    progress
    priority
    inputs
    params
    result
    error
    errorCode
    attempt
    maxAttempts
    timeoutMs
    idempotencyKey
    dependencies {
      required
      task {
        id
      }
    }
    createdAt
    startedAt
    completedAt
    updatedAt
    schedule {
      type
      expression
      timezone
      enabled
      startAt
      endAt
      nextRunAt
      lastRunAt
      maxRuns
      runCount
      missedRuns
      description
    }
  }
`);

export const CliTask = graphql(`
  query CliTask($id: ID!) {
    task(id: $id) {
      ...CliTaskFields
    }
  }
`);

export const CliTasks = graphql(`
  query CliTasks($filter: TaskFilter, $first: Int, $after: String, $orderBy: TaskOrder) {
    tasks(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...CliTaskFields
        }
      }
    }
  }
`);

export const CliExecutors = graphql(`
  query CliExecutors {
    executors {
      id
      description
      available
      unavailableReason
    }
  }
`);

export const CliCreateTree = graphql(`
  mutation CliCreateTree($input: CreateTaskTreeInput!) {
    createTaskTree(input: $input) {
      ...CliTaskFields
    }
  }
`);

export const CliCancelTask = graphql(`
  mutation CliCancelTask($id: ID!, $reason: String) {
    cancelTask(id: $id, reason: $reason) {
      ...CliTaskFields
    }
  }
`);

export const CliCopyTask = graphql(`
  mutation CliCopyTask($id: ID!, $execute: Boolean) {
    copyTask(id: $id, execute: $execute) {
      ...CliTaskFields
    }
  }
`);

export const CliDeleteTask = graphql(`
  mutation CliDeleteTask($id: ID!) {
    deleteTask(id: $id)
  }
`);

export const CliTreeEvents = graphql(`
  subscription CliTreeEvents($rootId: ID!, $after: ID) {
    taskTreeEvents(rootId: $rootId, after: $after) {
      id
      seq
      type
      status
      progress
      attempt
      message
      at
      task {
        id
      }
    }
  }
`);

export const CliScheduledTasks = graphql(`
  query CliScheduledTasks($enabled: Boolean, $first: Int, $after: String) {
    scheduledTasks(enabled: $enabled, first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...CliTaskFields
        }
      }
    }
  }
`);

export const CliSchedulesICal = graphql(`
  query CliSchedulesICal($includeDisabled: Boolean) {
    schedulesICal(includeDisabled: $includeDisabled)
  }
`);

export const CliSetSchedule = graphql(`
  mutation CliSetSchedule($id: ID!, $input: ScheduleInput!) {
    setTaskSchedule(id: $id, input: $input) {
      ...CliTaskFields
    }
  }
`);

export const CliEnableSchedule = graphql(`
  mutation CliEnableSchedule($id: ID!) {
    enableTaskSchedule(id: $id) {
      ...CliTaskFields
    }
  }
`);

export const CliDisableSchedule = graphql(`
  mutation CliDisableSchedule($id: ID!) {
    disableTaskSchedule(id: $id) {
      ...CliTaskFields
    }
  }
`);

export const CliClearSchedule = graphql(`
  mutation CliClearSchedule($id: ID!) {
    clearTaskSchedule(id: $id) {
      ...CliTaskFields
    }
  }
`);

export const CliTriggerSchedule = graphql(`
  mutation CliTriggerSchedule($id: ID!) {
    triggerTaskSchedule(id: $id) {
      ...CliTaskFields
    }
  }
`);
