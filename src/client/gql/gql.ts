/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query BenchTree($id: ID!) {\n    task(id: $id) {\n      ...BenchLevel\n      children {\n        ...BenchLevel\n        children {\n          ...BenchLevel\n          children {\n            ...BenchLevel\n          }\n        }\n      }\n    }\n  }\n  fragment BenchLevel on Task {\n    id\n    name\n    status\n    progress\n    dependencies {\n      required\n      task {\n        id\n      }\n    }\n  }\n": typeof types.BenchTreeDocument,
    "\n    subscription BenchFollow($rootId: ID!) {\n      taskTreeEvents(rootId: $rootId) {\n        seq\n        type\n      }\n    }\n  ": typeof types.BenchFollowDocument,
    "\n  mutation CreateReport($tasks: [TaskInput!]!) {\n    createTaskTree(input: { tasks: $tasks, execute: true }) {\n      id\n      name\n      status\n    }\n  }\n": typeof types.CreateReportDocument,
    "\n  subscription FollowTree($rootId: ID!) {\n    taskTreeEvents(rootId: $rootId) {\n      id\n      type\n      status\n      task {\n        name\n      }\n    }\n  }\n": typeof types.FollowTreeDocument,
    "\n  query FinishedTree($id: ID!) {\n    task(id: $id) {\n      name\n      status\n      rollup {\n        total\n        completed\n        progress\n      }\n      children {\n        name\n        status\n        result\n      }\n    }\n  }\n": typeof types.FinishedTreeDocument,
    "\n  fragment CliTaskFields on Task {\n    id\n    treeId\n    parent {\n      id\n    }\n    name\n    executor\n    status\n    progress\n    priority\n    inputs\n    params\n    result\n    error\n    errorCode\n    attempt\n    maxAttempts\n    timeoutMs\n    idempotencyKey\n    dependencies {\n      required\n      task {\n        id\n      }\n    }\n    createdAt\n    startedAt\n    completedAt\n    updatedAt\n    schedule {\n      type\n      expression\n      timezone\n      enabled\n      startAt\n      endAt\n      nextRunAt\n      lastRunAt\n      maxRuns\n      runCount\n      missedRuns\n      description\n    }\n  }\n": typeof types.CliTaskFieldsFragmentDoc,
    "\n  query CliTask($id: ID!) {\n    task(id: $id) {\n      ...CliTaskFields\n    }\n  }\n": typeof types.CliTaskDocument,
    "\n  query CliTasks($filter: TaskFilter, $first: Int, $after: String, $orderBy: TaskOrder) {\n    tasks(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...CliTaskFields\n        }\n      }\n    }\n  }\n": typeof types.CliTasksDocument,
    "\n  query CliExecutors {\n    executors {\n      id\n      description\n      available\n      unavailableReason\n    }\n  }\n": typeof types.CliExecutorsDocument,
    "\n  mutation CliCreateTree($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) {\n      ...CliTaskFields\n    }\n  }\n": typeof types.CliCreateTreeDocument,
    "\n  mutation CliCancelTask($id: ID!, $reason: String) {\n    cancelTask(id: $id, reason: $reason) {\n      ...CliTaskFields\n    }\n  }\n": typeof types.CliCancelTaskDocument,
    "\n  mutation CliCopyTask($id: ID!, $execute: Boolean) {\n    copyTask(id: $id, execute: $execute) {\n      ...CliTaskFields\n    }\n  }\n": typeof types.CliCopyTaskDocument,
    "\n  mutation CliDeleteTask($id: ID!) {\n    deleteTask(id: $id)\n  }\n": typeof types.CliDeleteTaskDocument,
    "\n  subscription CliTreeEvents($rootId: ID!, $after: ID) {\n    taskTreeEvents(rootId: $rootId, after: $after) {\n      id\n      seq\n      type\n      status\n      progress\n      attempt\n      message\n      at\n      task {\n        id\n      }\n    }\n  }\n": typeof types.CliTreeEventsDocument,
    "\n  query CliScheduledTasks($enabled: Boolean, $first: Int, $after: String) {\n    scheduledTasks(enabled: $enabled, first: $first, after: $after) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...CliTaskFields\n        }\n      }\n    }\n  }\n": typeof types.CliScheduledTasksDocument,
    "\n  query CliSchedulesICal($includeDisabled: Boolean) {\n    schedulesICal(includeDisabled: $includeDisabled)\n  }\n": typeof types.CliSchedulesICalDocument,
    "\n  mutation CliSetSchedule($id: ID!, $input: ScheduleInput!) {\n    setTaskSchedule(id: $id, input: $input) {\n      ...CliTaskFields\n    }\n  }\n": typeof types.CliSetScheduleDocument,
    "\n  mutation CliEnableSchedule($id: ID!) {\n    enableTaskSchedule(id: $id) {\n      ...CliTaskFields\n    }\n  }\n": typeof types.CliEnableScheduleDocument,
    "\n  mutation CliDisableSchedule($id: ID!) {\n    disableTaskSchedule(id: $id) {\n      ...CliTaskFields\n    }\n  }\n": typeof types.CliDisableScheduleDocument,
    "\n  mutation CliClearSchedule($id: ID!) {\n    clearTaskSchedule(id: $id) {\n      ...CliTaskFields\n    }\n  }\n": typeof types.CliClearScheduleDocument,
    "\n  mutation CliTriggerSchedule($id: ID!) {\n    triggerTaskSchedule(id: $id) {\n      ...CliTaskFields\n    }\n  }\n": typeof types.CliTriggerScheduleDocument,
    "\n  mutation RemoteCreateTree($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) {\n      id\n      treeId\n    }\n  }\n": typeof types.RemoteCreateTreeDocument,
    "\n  mutation RemoteCancelTree($id: ID!, $reason: String) {\n    cancelTask(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n": typeof types.RemoteCancelTreeDocument,
    "\n  query RemoteTreeState($id: ID!) {\n    task(id: $id) {\n      id\n      rollup {\n        total\n        pending\n        inProgress\n        progress\n      }\n    }\n  }\n": typeof types.RemoteTreeStateDocument,
    "\n  query RemoteTreeTasks($treeId: ID!, $after: String) {\n    tasks(filter: { treeId: $treeId }, first: 500, after: $after, orderBy: { field: CREATED_AT, direction: ASC }) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          name\n          status\n          result\n          error\n          errorCode\n        }\n      }\n    }\n  }\n": typeof types.RemoteTreeTasksDocument,
    "\n  subscription RemoteTreeEvents($rootId: ID!, $after: ID) {\n    taskTreeEvents(rootId: $rootId, after: $after) {\n      id\n      status\n      progress\n      task {\n        id\n      }\n    }\n  }\n": typeof types.RemoteTreeEventsDocument,
    "\n  mutation Create($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) { id treeId status }\n  }\n": typeof types.CreateDocument,
    "\n      subscription Events($rootId: ID!, $after: ID) {\n        taskTreeEvents(rootId: $rootId, after: $after) { id seq type status attempt data task { id } }\n      }\n    ": typeof types.EventsDocument,
    "\n  mutation CreateTree($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) {\n      id\n      name\n      status\n      treeId\n      children {\n        id\n        name\n        dependencies {\n          required\n          task {\n            name\n          }\n        }\n      }\n    }\n  }\n": typeof types.CreateTreeDocument,
    "\n  query TaskTree($id: ID!) {\n    task(id: $id) {\n      id\n      status\n      progress\n      result\n      rollup {\n        total\n        completed\n        failed\n        progress\n      }\n      children {\n        name\n        status\n        result\n        errorCode\n        attempt\n        parent {\n          id\n        }\n        root {\n          id\n        }\n        dependents {\n          name\n        }\n      }\n    }\n  }\n": typeof types.TaskTreeDocument,
    "\n  query ListTasks($filter: TaskFilter, $first: Int, $after: String, $orderBy: TaskOrder) {\n    tasks(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          name\n          priority\n        }\n      }\n    }\n  }\n": typeof types.ListTasksDocument,
    "\n  query Executors {\n    executors {\n      id\n      description\n      inputSchema\n      available\n      unavailableReason\n    }\n  }\n": typeof types.ExecutorsDocument,
    "\n  mutation UpdateTask($id: ID!, $input: UpdateTaskInput!) {\n    updateTask(id: $id, input: $input) {\n      name\n      priority\n      inputs\n    }\n  }\n": typeof types.UpdateTaskDocument,
    "\n  mutation Lifecycle($id: ID!) {\n    copyTask(id: $id) {\n      id\n      status\n      children {\n        id\n        name\n      }\n      dependencies {\n        required\n        task {\n          id\n          name\n        }\n      }\n    }\n  }\n": typeof types.LifecycleDocument,
    "\n  mutation DeleteTask($id: ID!) {\n    deleteTask(id: $id)\n  }\n": typeof types.DeleteTaskDocument,
    "\n  mutation ExecuteTask($id: ID!, $rerunAll: Boolean) {\n    executeTask(id: $id, rerunAll: $rerunAll) {\n      id\n      status\n    }\n  }\n": typeof types.ExecuteTaskDocument,
    "\n  query TaskEvents($id: ID!, $first: Int, $after: String) {\n    task(id: $id) {\n      events(first: $first, after: $after) {\n        edges {\n          node {\n            id\n            seq\n            type\n            status\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.TaskEventsDocument,
    "\n  query NestedTree($id: ID!) {\n    task(id: $id) {\n      ...TreeLevel\n      children {\n        ...TreeLevel\n        children {\n          ...TreeLevel\n          children {\n            ...TreeLevel\n          }\n        }\n      }\n    }\n  }\n  fragment TreeLevel on Task {\n    id\n    name\n    status\n    progress\n    dependencies {\n      required\n      task {\n        id\n        name\n      }\n    }\n    dependents {\n      id\n      name\n    }\n    rollup {\n      total\n      progress\n    }\n  }\n": typeof types.NestedTreeDocument,
    "\n  query TreeWithDependencyIds($id: ID!) {\n    task(id: $id) {\n      ...DependencyIds\n      children {\n        ...DependencyIds\n        children {\n          ...DependencyIds\n          children {\n            ...DependencyIds\n          }\n        }\n      }\n    }\n  }\n  fragment DependencyIds on Task {\n    id\n    dependencies {\n      required\n      task {\n        id\n      }\n    }\n  }\n": typeof types.TreeWithDependencyIdsDocument,
    "\n  mutation CreateScheduledJob($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) {\n      id\n      children {\n        id\n      }\n    }\n  }\n": typeof types.CreateScheduledJobDocument,
    "\n  mutation SetSchedule($id: ID!, $input: ScheduleInput!) {\n    setTaskSchedule(id: $id, input: $input) {\n      id\n      schedule {\n        type\n        expression\n        timezone\n        enabled\n        startAt\n        endAt\n        nextRunAt\n        lastRunAt\n        maxRuns\n        runCount\n        missedRuns\n        description\n      }\n    }\n  }\n": typeof types.SetScheduleDocument,
    "\n  mutation ToggleSchedule($id: ID!, $enable: Boolean!) {\n    enableTaskSchedule(id: $id) @include(if: $enable) {\n      schedule {\n        enabled\n        nextRunAt\n      }\n    }\n    disableTaskSchedule(id: $id) @skip(if: $enable) {\n      schedule {\n        enabled\n        nextRunAt\n      }\n    }\n  }\n": typeof types.ToggleScheduleDocument,
    "\n  mutation ClearSchedule($id: ID!) {\n    clearTaskSchedule(id: $id) {\n      schedule {\n        type\n      }\n    }\n  }\n": typeof types.ClearScheduleDocument,
    "\n  mutation TriggerSchedule($id: ID!) {\n    triggerTaskSchedule(id: $id) {\n      status\n      schedule {\n        runCount\n        lastRunAt\n        nextRunAt\n      }\n    }\n  }\n": typeof types.TriggerScheduleDocument,
    "\n  query ScheduledTasks($enabled: Boolean, $first: Int, $after: String) {\n    scheduledTasks(enabled: $enabled, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          name\n          children {\n            name\n          }\n          schedule {\n            nextRunAt\n          }\n        }\n      }\n    }\n  }\n": typeof types.ScheduledTasksDocument,
    "\n  query SchedulesICal($includeDisabled: Boolean) {\n    schedulesICal(includeDisabled: $includeDisabled)\n  }\n": typeof types.SchedulesICalDocument,
    "\n  query ScheduleEvents($id: ID!) {\n    task(id: $id) {\n      schedule {\n        runCount\n      }\n      events(first: 100) {\n        edges {\n          node {\n            type\n            message\n          }\n        }\n      }\n    }\n  }\n": typeof types.ScheduleEventsDocument,
    "\n    subscription EventSeqs($rootId: ID!, $after: ID) {\n      taskTreeEvents(rootId: $rootId, after: $after) {\n        seq\n        type\n      }\n    }\n  ": typeof types.EventSeqsDocument,
    "\n    subscription EventInputs($rootId: ID!) {\n      taskTreeEvents(rootId: $rootId) {\n        seq\n        task {\n          inputs\n        }\n      }\n    }\n  ": typeof types.EventInputsDocument,
    "\n    subscription FullEvents($rootId: ID!, $after: ID) {\n      taskTreeEvents(rootId: $rootId, after: $after) {\n        id\n        seq\n        type\n        status\n        task {\n          name\n        }\n      }\n    }\n  ": typeof types.FullEventsDocument,
    "\n    subscription TaskStatusChanged($id: ID!) {\n      taskStatusChanged(id: $id) {\n        id\n        status\n        progress\n      }\n    }\n  ": typeof types.TaskStatusChangedDocument,
    "\n    subscription TreeEvents($rootId: ID!, $after: ID) {\n      taskTreeEvents(rootId: $rootId, after: $after) {\n        id\n        seq\n        type\n        status\n        task {\n          name\n        }\n      }\n    }\n  ": typeof types.TreeEventsDocument,
    "\n    subscription RootProgress($id: ID!) {\n      taskStatusChanged(id: $id) {\n        status\n        rollup {\n          completed\n          total\n        }\n      }\n    }\n  ": typeof types.RootProgressDocument,
};
const documents: Documents = {
    "\n  query BenchTree($id: ID!) {\n    task(id: $id) {\n      ...BenchLevel\n      children {\n        ...BenchLevel\n        children {\n          ...BenchLevel\n          children {\n            ...BenchLevel\n          }\n        }\n      }\n    }\n  }\n  fragment BenchLevel on Task {\n    id\n    name\n    status\n    progress\n    dependencies {\n      required\n      task {\n        id\n      }\n    }\n  }\n": types.BenchTreeDocument,
    "\n    subscription BenchFollow($rootId: ID!) {\n      taskTreeEvents(rootId: $rootId) {\n        seq\n        type\n      }\n    }\n  ": types.BenchFollowDocument,
    "\n  mutation CreateReport($tasks: [TaskInput!]!) {\n    createTaskTree(input: { tasks: $tasks, execute: true }) {\n      id\n      name\n      status\n    }\n  }\n": types.CreateReportDocument,
    "\n  subscription FollowTree($rootId: ID!) {\n    taskTreeEvents(rootId: $rootId) {\n      id\n      type\n      status\n      task {\n        name\n      }\n    }\n  }\n": types.FollowTreeDocument,
    "\n  query FinishedTree($id: ID!) {\n    task(id: $id) {\n      name\n      status\n      rollup {\n        total\n        completed\n        progress\n      }\n      children {\n        name\n        status\n        result\n      }\n    }\n  }\n": types.FinishedTreeDocument,
    "\n  fragment CliTaskFields on Task {\n    id\n    treeId\n    parent {\n      id\n    }\n    name\n    executor\n    status\n    progress\n    priority\n    inputs\n    params\n    result\n    error\n    errorCode\n    attempt\n    maxAttempts\n    timeoutMs\n    idempotencyKey\n    dependencies {\n      required\n      task {\n        id\n      }\n    }\n    createdAt\n    startedAt\n    completedAt\n    updatedAt\n    schedule {\n      type\n      expression\n      timezone\n      enabled\n      startAt\n      endAt\n      nextRunAt\n      lastRunAt\n      maxRuns\n      runCount\n      missedRuns\n      description\n    }\n  }\n": types.CliTaskFieldsFragmentDoc,
    "\n  query CliTask($id: ID!) {\n    task(id: $id) {\n      ...CliTaskFields\n    }\n  }\n": types.CliTaskDocument,
    "\n  query CliTasks($filter: TaskFilter, $first: Int, $after: String, $orderBy: TaskOrder) {\n    tasks(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...CliTaskFields\n        }\n      }\n    }\n  }\n": types.CliTasksDocument,
    "\n  query CliExecutors {\n    executors {\n      id\n      description\n      available\n      unavailableReason\n    }\n  }\n": types.CliExecutorsDocument,
    "\n  mutation CliCreateTree($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) {\n      ...CliTaskFields\n    }\n  }\n": types.CliCreateTreeDocument,
    "\n  mutation CliCancelTask($id: ID!, $reason: String) {\n    cancelTask(id: $id, reason: $reason) {\n      ...CliTaskFields\n    }\n  }\n": types.CliCancelTaskDocument,
    "\n  mutation CliCopyTask($id: ID!, $execute: Boolean) {\n    copyTask(id: $id, execute: $execute) {\n      ...CliTaskFields\n    }\n  }\n": types.CliCopyTaskDocument,
    "\n  mutation CliDeleteTask($id: ID!) {\n    deleteTask(id: $id)\n  }\n": types.CliDeleteTaskDocument,
    "\n  subscription CliTreeEvents($rootId: ID!, $after: ID) {\n    taskTreeEvents(rootId: $rootId, after: $after) {\n      id\n      seq\n      type\n      status\n      progress\n      attempt\n      message\n      at\n      task {\n        id\n      }\n    }\n  }\n": types.CliTreeEventsDocument,
    "\n  query CliScheduledTasks($enabled: Boolean, $first: Int, $after: String) {\n    scheduledTasks(enabled: $enabled, first: $first, after: $after) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...CliTaskFields\n        }\n      }\n    }\n  }\n": types.CliScheduledTasksDocument,
    "\n  query CliSchedulesICal($includeDisabled: Boolean) {\n    schedulesICal(includeDisabled: $includeDisabled)\n  }\n": types.CliSchedulesICalDocument,
    "\n  mutation CliSetSchedule($id: ID!, $input: ScheduleInput!) {\n    setTaskSchedule(id: $id, input: $input) {\n      ...CliTaskFields\n    }\n  }\n": types.CliSetScheduleDocument,
    "\n  mutation CliEnableSchedule($id: ID!) {\n    enableTaskSchedule(id: $id) {\n      ...CliTaskFields\n    }\n  }\n": types.CliEnableScheduleDocument,
    "\n  mutation CliDisableSchedule($id: ID!) {\n    disableTaskSchedule(id: $id) {\n      ...CliTaskFields\n    }\n  }\n": types.CliDisableScheduleDocument,
    "\n  mutation CliClearSchedule($id: ID!) {\n    clearTaskSchedule(id: $id) {\n      ...CliTaskFields\n    }\n  }\n": types.CliClearScheduleDocument,
    "\n  mutation CliTriggerSchedule($id: ID!) {\n    triggerTaskSchedule(id: $id) {\n      ...CliTaskFields\n    }\n  }\n": types.CliTriggerScheduleDocument,
    "\n  mutation RemoteCreateTree($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) {\n      id\n      treeId\n    }\n  }\n": types.RemoteCreateTreeDocument,
    "\n  mutation RemoteCancelTree($id: ID!, $reason: String) {\n    cancelTask(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n": types.RemoteCancelTreeDocument,
    "\n  query RemoteTreeState($id: ID!) {\n    task(id: $id) {\n      id\n      rollup {\n        total\n        pending\n        inProgress\n        progress\n      }\n    }\n  }\n": types.RemoteTreeStateDocument,
    "\n  query RemoteTreeTasks($treeId: ID!, $after: String) {\n    tasks(filter: { treeId: $treeId }, first: 500, after: $after, orderBy: { field: CREATED_AT, direction: ASC }) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          name\n          status\n          result\n          error\n          errorCode\n        }\n      }\n    }\n  }\n": types.RemoteTreeTasksDocument,
    "\n  subscription RemoteTreeEvents($rootId: ID!, $after: ID) {\n    taskTreeEvents(rootId: $rootId, after: $after) {\n      id\n      status\n      progress\n      task {\n        id\n      }\n    }\n  }\n": types.RemoteTreeEventsDocument,
    "\n  mutation Create($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) { id treeId status }\n  }\n": types.CreateDocument,
    "\n      subscription Events($rootId: ID!, $after: ID) {\n        taskTreeEvents(rootId: $rootId, after: $after) { id seq type status attempt data task { id } }\n      }\n    ": types.EventsDocument,
    "\n  mutation CreateTree($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) {\n      id\n      name\n      status\n      treeId\n      children {\n        id\n        name\n        dependencies {\n          required\n          task {\n            name\n          }\n        }\n      }\n    }\n  }\n": types.CreateTreeDocument,
    "\n  query TaskTree($id: ID!) {\n    task(id: $id) {\n      id\n      status\n      progress\n      result\n      rollup {\n        total\n        completed\n        failed\n        progress\n      }\n      children {\n        name\n        status\n        result\n        errorCode\n        attempt\n        parent {\n          id\n        }\n        root {\n          id\n        }\n        dependents {\n          name\n        }\n      }\n    }\n  }\n": types.TaskTreeDocument,
    "\n  query ListTasks($filter: TaskFilter, $first: Int, $after: String, $orderBy: TaskOrder) {\n    tasks(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          name\n          priority\n        }\n      }\n    }\n  }\n": types.ListTasksDocument,
    "\n  query Executors {\n    executors {\n      id\n      description\n      inputSchema\n      available\n      unavailableReason\n    }\n  }\n": types.ExecutorsDocument,
    "\n  mutation UpdateTask($id: ID!, $input: UpdateTaskInput!) {\n    updateTask(id: $id, input: $input) {\n      name\n      priority\n      inputs\n    }\n  }\n": types.UpdateTaskDocument,
    "\n  mutation Lifecycle($id: ID!) {\n    copyTask(id: $id) {\n      id\n      status\n      children {\n        id\n        name\n      }\n      dependencies {\n        required\n        task {\n          id\n          name\n        }\n      }\n    }\n  }\n": types.LifecycleDocument,
    "\n  mutation DeleteTask($id: ID!) {\n    deleteTask(id: $id)\n  }\n": types.DeleteTaskDocument,
    "\n  mutation ExecuteTask($id: ID!, $rerunAll: Boolean) {\n    executeTask(id: $id, rerunAll: $rerunAll) {\n      id\n      status\n    }\n  }\n": types.ExecuteTaskDocument,
    "\n  query TaskEvents($id: ID!, $first: Int, $after: String) {\n    task(id: $id) {\n      events(first: $first, after: $after) {\n        edges {\n          node {\n            id\n            seq\n            type\n            status\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.TaskEventsDocument,
    "\n  query NestedTree($id: ID!) {\n    task(id: $id) {\n      ...TreeLevel\n      children {\n        ...TreeLevel\n        children {\n          ...TreeLevel\n          children {\n            ...TreeLevel\n          }\n        }\n      }\n    }\n  }\n  fragment TreeLevel on Task {\n    id\n    name\n    status\n    progress\n    dependencies {\n      required\n      task {\n        id\n        name\n      }\n    }\n    dependents {\n      id\n      name\n    }\n    rollup {\n      total\n      progress\n    }\n  }\n": types.NestedTreeDocument,
    "\n  query TreeWithDependencyIds($id: ID!) {\n    task(id: $id) {\n      ...DependencyIds\n      children {\n        ...DependencyIds\n        children {\n          ...DependencyIds\n          children {\n            ...DependencyIds\n          }\n        }\n      }\n    }\n  }\n  fragment DependencyIds on Task {\n    id\n    dependencies {\n      required\n      task {\n        id\n      }\n    }\n  }\n": types.TreeWithDependencyIdsDocument,
    "\n  mutation CreateScheduledJob($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) {\n      id\n      children {\n        id\n      }\n    }\n  }\n": types.CreateScheduledJobDocument,
    "\n  mutation SetSchedule($id: ID!, $input: ScheduleInput!) {\n    setTaskSchedule(id: $id, input: $input) {\n      id\n      schedule {\n        type\n        expression\n        timezone\n        enabled\n        startAt\n        endAt\n        nextRunAt\n        lastRunAt\n        maxRuns\n        runCount\n        missedRuns\n        description\n      }\n    }\n  }\n": types.SetScheduleDocument,
    "\n  mutation ToggleSchedule($id: ID!, $enable: Boolean!) {\n    enableTaskSchedule(id: $id) @include(if: $enable) {\n      schedule {\n        enabled\n        nextRunAt\n      }\n    }\n    disableTaskSchedule(id: $id) @skip(if: $enable) {\n      schedule {\n        enabled\n        nextRunAt\n      }\n    }\n  }\n": types.ToggleScheduleDocument,
    "\n  mutation ClearSchedule($id: ID!) {\n    clearTaskSchedule(id: $id) {\n      schedule {\n        type\n      }\n    }\n  }\n": types.ClearScheduleDocument,
    "\n  mutation TriggerSchedule($id: ID!) {\n    triggerTaskSchedule(id: $id) {\n      status\n      schedule {\n        runCount\n        lastRunAt\n        nextRunAt\n      }\n    }\n  }\n": types.TriggerScheduleDocument,
    "\n  query ScheduledTasks($enabled: Boolean, $first: Int, $after: String) {\n    scheduledTasks(enabled: $enabled, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          name\n          children {\n            name\n          }\n          schedule {\n            nextRunAt\n          }\n        }\n      }\n    }\n  }\n": types.ScheduledTasksDocument,
    "\n  query SchedulesICal($includeDisabled: Boolean) {\n    schedulesICal(includeDisabled: $includeDisabled)\n  }\n": types.SchedulesICalDocument,
    "\n  query ScheduleEvents($id: ID!) {\n    task(id: $id) {\n      schedule {\n        runCount\n      }\n      events(first: 100) {\n        edges {\n          node {\n            type\n            message\n          }\n        }\n      }\n    }\n  }\n": types.ScheduleEventsDocument,
    "\n    subscription EventSeqs($rootId: ID!, $after: ID) {\n      taskTreeEvents(rootId: $rootId, after: $after) {\n        seq\n        type\n      }\n    }\n  ": types.EventSeqsDocument,
    "\n    subscription EventInputs($rootId: ID!) {\n      taskTreeEvents(rootId: $rootId) {\n        seq\n        task {\n          inputs\n        }\n      }\n    }\n  ": types.EventInputsDocument,
    "\n    subscription FullEvents($rootId: ID!, $after: ID) {\n      taskTreeEvents(rootId: $rootId, after: $after) {\n        id\n        seq\n        type\n        status\n        task {\n          name\n        }\n      }\n    }\n  ": types.FullEventsDocument,
    "\n    subscription TaskStatusChanged($id: ID!) {\n      taskStatusChanged(id: $id) {\n        id\n        status\n        progress\n      }\n    }\n  ": types.TaskStatusChangedDocument,
    "\n    subscription TreeEvents($rootId: ID!, $after: ID) {\n      taskTreeEvents(rootId: $rootId, after: $after) {\n        id\n        seq\n        type\n        status\n        task {\n          name\n        }\n      }\n    }\n  ": types.TreeEventsDocument,
    "\n    subscription RootProgress($id: ID!) {\n      taskStatusChanged(id: $id) {\n        status\n        rollup {\n          completed\n          total\n        }\n      }\n    }\n  ": types.RootProgressDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BenchTree($id: ID!) {\n    task(id: $id) {\n      ...BenchLevel\n      children {\n        ...BenchLevel\n        children {\n          ...BenchLevel\n          children {\n            ...BenchLevel\n          }\n        }\n      }\n    }\n  }\n  fragment BenchLevel on Task {\n    id\n    name\n    status\n    progress\n    dependencies {\n      required\n      task {\n        id\n      }\n    }\n  }\n"): (typeof documents)["\n  query BenchTree($id: ID!) {\n    task(id: $id) {\n      ...BenchLevel\n      children {\n        ...BenchLevel\n        children {\n          ...BenchLevel\n          children {\n            ...BenchLevel\n          }\n        }\n      }\n    }\n  }\n  fragment BenchLevel on Task {\n    id\n    name\n    status\n    progress\n    dependencies {\n      required\n      task {\n        id\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    subscription BenchFollow($rootId: ID!) {\n      taskTreeEvents(rootId: $rootId) {\n        seq\n        type\n      }\n    }\n  "): (typeof documents)["\n    subscription BenchFollow($rootId: ID!) {\n      taskTreeEvents(rootId: $rootId) {\n        seq\n        type\n      }\n    }\n  "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateReport($tasks: [TaskInput!]!) {\n    createTaskTree(input: { tasks: $tasks, execute: true }) {\n      id\n      name\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation CreateReport($tasks: [TaskInput!]!) {\n    createTaskTree(input: { tasks: $tasks, execute: true }) {\n      id\n      name\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription FollowTree($rootId: ID!) {\n    taskTreeEvents(rootId: $rootId) {\n      id\n      type\n      status\n      task {\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription FollowTree($rootId: ID!) {\n    taskTreeEvents(rootId: $rootId) {\n      id\n      type\n      status\n      task {\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query FinishedTree($id: ID!) {\n    task(id: $id) {\n      name\n      status\n      rollup {\n        total\n        completed\n        progress\n      }\n      children {\n        name\n        status\n        result\n      }\n    }\n  }\n"): (typeof documents)["\n  query FinishedTree($id: ID!) {\n    task(id: $id) {\n      name\n      status\n      rollup {\n        total\n        completed\n        progress\n      }\n      children {\n        name\n        status\n        result\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CliTaskFields on Task {\n    id\n    treeId\n    parent {\n      id\n    }\n    name\n    executor\n    status\n    progress\n    priority\n    inputs\n    params\n    result\n    error\n    errorCode\n    attempt\n    maxAttempts\n    timeoutMs\n    idempotencyKey\n    dependencies {\n      required\n      task {\n        id\n      }\n    }\n    createdAt\n    startedAt\n    completedAt\n    updatedAt\n    schedule {\n      type\n      expression\n      timezone\n      enabled\n      startAt\n      endAt\n      nextRunAt\n      lastRunAt\n      maxRuns\n      runCount\n      missedRuns\n      description\n    }\n  }\n"): (typeof documents)["\n  fragment CliTaskFields on Task {\n    id\n    treeId\n    parent {\n      id\n    }\n    name\n    executor\n    status\n    progress\n    priority\n    inputs\n    params\n    result\n    error\n    errorCode\n    attempt\n    maxAttempts\n    timeoutMs\n    idempotencyKey\n    dependencies {\n      required\n      task {\n        id\n      }\n    }\n    createdAt\n    startedAt\n    completedAt\n    updatedAt\n    schedule {\n      type\n      expression\n      timezone\n      enabled\n      startAt\n      endAt\n      nextRunAt\n      lastRunAt\n      maxRuns\n      runCount\n      missedRuns\n      description\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CliTask($id: ID!) {\n    task(id: $id) {\n      ...CliTaskFields\n    }\n  }\n"): (typeof documents)["\n  query CliTask($id: ID!) {\n    task(id: $id) {\n      ...CliTaskFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CliTasks($filter: TaskFilter, $first: Int, $after: String, $orderBy: TaskOrder) {\n    tasks(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...CliTaskFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query CliTasks($filter: TaskFilter, $first: Int, $after: String, $orderBy: TaskOrder) {\n    tasks(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...CliTaskFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CliExecutors {\n    executors {\n      id\n      description\n      available\n      unavailableReason\n    }\n  }\n"): (typeof documents)["\n  query CliExecutors {\n    executors {\n      id\n      description\n      available\n      unavailableReason\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CliCreateTree($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) {\n      ...CliTaskFields\n    }\n  }\n"): (typeof documents)["\n  mutation CliCreateTree($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) {\n      ...CliTaskFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CliCancelTask($id: ID!, $reason: String) {\n    cancelTask(id: $id, reason: $reason) {\n      ...CliTaskFields\n    }\n  }\n"): (typeof documents)["\n  mutation CliCancelTask($id: ID!, $reason: String) {\n    cancelTask(id: $id, reason: $reason) {\n      ...CliTaskFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CliCopyTask($id: ID!, $execute: Boolean) {\n    copyTask(id: $id, execute: $execute) {\n      ...CliTaskFields\n    }\n  }\n"): (typeof documents)["\n  mutation CliCopyTask($id: ID!, $execute: Boolean) {\n    copyTask(id: $id, execute: $execute) {\n      ...CliTaskFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CliDeleteTask($id: ID!) {\n    deleteTask(id: $id)\n  }\n"): (typeof documents)["\n  mutation CliDeleteTask($id: ID!) {\n    deleteTask(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription CliTreeEvents($rootId: ID!, $after: ID) {\n    taskTreeEvents(rootId: $rootId, after: $after) {\n      id\n      seq\n      type\n      status\n      progress\n      attempt\n      message\n      at\n      task {\n        id\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription CliTreeEvents($rootId: ID!, $after: ID) {\n    taskTreeEvents(rootId: $rootId, after: $after) {\n      id\n      seq\n      type\n      status\n      progress\n      attempt\n      message\n      at\n      task {\n        id\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CliScheduledTasks($enabled: Boolean, $first: Int, $after: String) {\n    scheduledTasks(enabled: $enabled, first: $first, after: $after) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...CliTaskFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query CliScheduledTasks($enabled: Boolean, $first: Int, $after: String) {\n    scheduledTasks(enabled: $enabled, first: $first, after: $after) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...CliTaskFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CliSchedulesICal($includeDisabled: Boolean) {\n    schedulesICal(includeDisabled: $includeDisabled)\n  }\n"): (typeof documents)["\n  query CliSchedulesICal($includeDisabled: Boolean) {\n    schedulesICal(includeDisabled: $includeDisabled)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CliSetSchedule($id: ID!, $input: ScheduleInput!) {\n    setTaskSchedule(id: $id, input: $input) {\n      ...CliTaskFields\n    }\n  }\n"): (typeof documents)["\n  mutation CliSetSchedule($id: ID!, $input: ScheduleInput!) {\n    setTaskSchedule(id: $id, input: $input) {\n      ...CliTaskFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CliEnableSchedule($id: ID!) {\n    enableTaskSchedule(id: $id) {\n      ...CliTaskFields\n    }\n  }\n"): (typeof documents)["\n  mutation CliEnableSchedule($id: ID!) {\n    enableTaskSchedule(id: $id) {\n      ...CliTaskFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CliDisableSchedule($id: ID!) {\n    disableTaskSchedule(id: $id) {\n      ...CliTaskFields\n    }\n  }\n"): (typeof documents)["\n  mutation CliDisableSchedule($id: ID!) {\n    disableTaskSchedule(id: $id) {\n      ...CliTaskFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CliClearSchedule($id: ID!) {\n    clearTaskSchedule(id: $id) {\n      ...CliTaskFields\n    }\n  }\n"): (typeof documents)["\n  mutation CliClearSchedule($id: ID!) {\n    clearTaskSchedule(id: $id) {\n      ...CliTaskFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CliTriggerSchedule($id: ID!) {\n    triggerTaskSchedule(id: $id) {\n      ...CliTaskFields\n    }\n  }\n"): (typeof documents)["\n  mutation CliTriggerSchedule($id: ID!) {\n    triggerTaskSchedule(id: $id) {\n      ...CliTaskFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoteCreateTree($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) {\n      id\n      treeId\n    }\n  }\n"): (typeof documents)["\n  mutation RemoteCreateTree($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) {\n      id\n      treeId\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoteCancelTree($id: ID!, $reason: String) {\n    cancelTask(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation RemoteCancelTree($id: ID!, $reason: String) {\n    cancelTask(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RemoteTreeState($id: ID!) {\n    task(id: $id) {\n      id\n      rollup {\n        total\n        pending\n        inProgress\n        progress\n      }\n    }\n  }\n"): (typeof documents)["\n  query RemoteTreeState($id: ID!) {\n    task(id: $id) {\n      id\n      rollup {\n        total\n        pending\n        inProgress\n        progress\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RemoteTreeTasks($treeId: ID!, $after: String) {\n    tasks(filter: { treeId: $treeId }, first: 500, after: $after, orderBy: { field: CREATED_AT, direction: ASC }) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          name\n          status\n          result\n          error\n          errorCode\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query RemoteTreeTasks($treeId: ID!, $after: String) {\n    tasks(filter: { treeId: $treeId }, first: 500, after: $after, orderBy: { field: CREATED_AT, direction: ASC }) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          name\n          status\n          result\n          error\n          errorCode\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription RemoteTreeEvents($rootId: ID!, $after: ID) {\n    taskTreeEvents(rootId: $rootId, after: $after) {\n      id\n      status\n      progress\n      task {\n        id\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription RemoteTreeEvents($rootId: ID!, $after: ID) {\n    taskTreeEvents(rootId: $rootId, after: $after) {\n      id\n      status\n      progress\n      task {\n        id\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Create($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) { id treeId status }\n  }\n"): (typeof documents)["\n  mutation Create($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) { id treeId status }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n      subscription Events($rootId: ID!, $after: ID) {\n        taskTreeEvents(rootId: $rootId, after: $after) { id seq type status attempt data task { id } }\n      }\n    "): (typeof documents)["\n      subscription Events($rootId: ID!, $after: ID) {\n        taskTreeEvents(rootId: $rootId, after: $after) { id seq type status attempt data task { id } }\n      }\n    "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateTree($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) {\n      id\n      name\n      status\n      treeId\n      children {\n        id\n        name\n        dependencies {\n          required\n          task {\n            name\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateTree($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) {\n      id\n      name\n      status\n      treeId\n      children {\n        id\n        name\n        dependencies {\n          required\n          task {\n            name\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TaskTree($id: ID!) {\n    task(id: $id) {\n      id\n      status\n      progress\n      result\n      rollup {\n        total\n        completed\n        failed\n        progress\n      }\n      children {\n        name\n        status\n        result\n        errorCode\n        attempt\n        parent {\n          id\n        }\n        root {\n          id\n        }\n        dependents {\n          name\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query TaskTree($id: ID!) {\n    task(id: $id) {\n      id\n      status\n      progress\n      result\n      rollup {\n        total\n        completed\n        failed\n        progress\n      }\n      children {\n        name\n        status\n        result\n        errorCode\n        attempt\n        parent {\n          id\n        }\n        root {\n          id\n        }\n        dependents {\n          name\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ListTasks($filter: TaskFilter, $first: Int, $after: String, $orderBy: TaskOrder) {\n    tasks(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          name\n          priority\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ListTasks($filter: TaskFilter, $first: Int, $after: String, $orderBy: TaskOrder) {\n    tasks(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          name\n          priority\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Executors {\n    executors {\n      id\n      description\n      inputSchema\n      available\n      unavailableReason\n    }\n  }\n"): (typeof documents)["\n  query Executors {\n    executors {\n      id\n      description\n      inputSchema\n      available\n      unavailableReason\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateTask($id: ID!, $input: UpdateTaskInput!) {\n    updateTask(id: $id, input: $input) {\n      name\n      priority\n      inputs\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateTask($id: ID!, $input: UpdateTaskInput!) {\n    updateTask(id: $id, input: $input) {\n      name\n      priority\n      inputs\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Lifecycle($id: ID!) {\n    copyTask(id: $id) {\n      id\n      status\n      children {\n        id\n        name\n      }\n      dependencies {\n        required\n        task {\n          id\n          name\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation Lifecycle($id: ID!) {\n    copyTask(id: $id) {\n      id\n      status\n      children {\n        id\n        name\n      }\n      dependencies {\n        required\n        task {\n          id\n          name\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteTask($id: ID!) {\n    deleteTask(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteTask($id: ID!) {\n    deleteTask(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ExecuteTask($id: ID!, $rerunAll: Boolean) {\n    executeTask(id: $id, rerunAll: $rerunAll) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation ExecuteTask($id: ID!, $rerunAll: Boolean) {\n    executeTask(id: $id, rerunAll: $rerunAll) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TaskEvents($id: ID!, $first: Int, $after: String) {\n    task(id: $id) {\n      events(first: $first, after: $after) {\n        edges {\n          node {\n            id\n            seq\n            type\n            status\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query TaskEvents($id: ID!, $first: Int, $after: String) {\n    task(id: $id) {\n      events(first: $first, after: $after) {\n        edges {\n          node {\n            id\n            seq\n            type\n            status\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query NestedTree($id: ID!) {\n    task(id: $id) {\n      ...TreeLevel\n      children {\n        ...TreeLevel\n        children {\n          ...TreeLevel\n          children {\n            ...TreeLevel\n          }\n        }\n      }\n    }\n  }\n  fragment TreeLevel on Task {\n    id\n    name\n    status\n    progress\n    dependencies {\n      required\n      task {\n        id\n        name\n      }\n    }\n    dependents {\n      id\n      name\n    }\n    rollup {\n      total\n      progress\n    }\n  }\n"): (typeof documents)["\n  query NestedTree($id: ID!) {\n    task(id: $id) {\n      ...TreeLevel\n      children {\n        ...TreeLevel\n        children {\n          ...TreeLevel\n          children {\n            ...TreeLevel\n          }\n        }\n      }\n    }\n  }\n  fragment TreeLevel on Task {\n    id\n    name\n    status\n    progress\n    dependencies {\n      required\n      task {\n        id\n        name\n      }\n    }\n    dependents {\n      id\n      name\n    }\n    rollup {\n      total\n      progress\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TreeWithDependencyIds($id: ID!) {\n    task(id: $id) {\n      ...DependencyIds\n      children {\n        ...DependencyIds\n        children {\n          ...DependencyIds\n          children {\n            ...DependencyIds\n          }\n        }\n      }\n    }\n  }\n  fragment DependencyIds on Task {\n    id\n    dependencies {\n      required\n      task {\n        id\n      }\n    }\n  }\n"): (typeof documents)["\n  query TreeWithDependencyIds($id: ID!) {\n    task(id: $id) {\n      ...DependencyIds\n      children {\n        ...DependencyIds\n        children {\n          ...DependencyIds\n          children {\n            ...DependencyIds\n          }\n        }\n      }\n    }\n  }\n  fragment DependencyIds on Task {\n    id\n    dependencies {\n      required\n      task {\n        id\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateScheduledJob($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) {\n      id\n      children {\n        id\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateScheduledJob($input: CreateTaskTreeInput!) {\n    createTaskTree(input: $input) {\n      id\n      children {\n        id\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetSchedule($id: ID!, $input: ScheduleInput!) {\n    setTaskSchedule(id: $id, input: $input) {\n      id\n      schedule {\n        type\n        expression\n        timezone\n        enabled\n        startAt\n        endAt\n        nextRunAt\n        lastRunAt\n        maxRuns\n        runCount\n        missedRuns\n        description\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation SetSchedule($id: ID!, $input: ScheduleInput!) {\n    setTaskSchedule(id: $id, input: $input) {\n      id\n      schedule {\n        type\n        expression\n        timezone\n        enabled\n        startAt\n        endAt\n        nextRunAt\n        lastRunAt\n        maxRuns\n        runCount\n        missedRuns\n        description\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ToggleSchedule($id: ID!, $enable: Boolean!) {\n    enableTaskSchedule(id: $id) @include(if: $enable) {\n      schedule {\n        enabled\n        nextRunAt\n      }\n    }\n    disableTaskSchedule(id: $id) @skip(if: $enable) {\n      schedule {\n        enabled\n        nextRunAt\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation ToggleSchedule($id: ID!, $enable: Boolean!) {\n    enableTaskSchedule(id: $id) @include(if: $enable) {\n      schedule {\n        enabled\n        nextRunAt\n      }\n    }\n    disableTaskSchedule(id: $id) @skip(if: $enable) {\n      schedule {\n        enabled\n        nextRunAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ClearSchedule($id: ID!) {\n    clearTaskSchedule(id: $id) {\n      schedule {\n        type\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation ClearSchedule($id: ID!) {\n    clearTaskSchedule(id: $id) {\n      schedule {\n        type\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation TriggerSchedule($id: ID!) {\n    triggerTaskSchedule(id: $id) {\n      status\n      schedule {\n        runCount\n        lastRunAt\n        nextRunAt\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation TriggerSchedule($id: ID!) {\n    triggerTaskSchedule(id: $id) {\n      status\n      schedule {\n        runCount\n        lastRunAt\n        nextRunAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ScheduledTasks($enabled: Boolean, $first: Int, $after: String) {\n    scheduledTasks(enabled: $enabled, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          name\n          children {\n            name\n          }\n          schedule {\n            nextRunAt\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ScheduledTasks($enabled: Boolean, $first: Int, $after: String) {\n    scheduledTasks(enabled: $enabled, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          name\n          children {\n            name\n          }\n          schedule {\n            nextRunAt\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SchedulesICal($includeDisabled: Boolean) {\n    schedulesICal(includeDisabled: $includeDisabled)\n  }\n"): (typeof documents)["\n  query SchedulesICal($includeDisabled: Boolean) {\n    schedulesICal(includeDisabled: $includeDisabled)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ScheduleEvents($id: ID!) {\n    task(id: $id) {\n      schedule {\n        runCount\n      }\n      events(first: 100) {\n        edges {\n          node {\n            type\n            message\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ScheduleEvents($id: ID!) {\n    task(id: $id) {\n      schedule {\n        runCount\n      }\n      events(first: 100) {\n        edges {\n          node {\n            type\n            message\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    subscription EventSeqs($rootId: ID!, $after: ID) {\n      taskTreeEvents(rootId: $rootId, after: $after) {\n        seq\n        type\n      }\n    }\n  "): (typeof documents)["\n    subscription EventSeqs($rootId: ID!, $after: ID) {\n      taskTreeEvents(rootId: $rootId, after: $after) {\n        seq\n        type\n      }\n    }\n  "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    subscription EventInputs($rootId: ID!) {\n      taskTreeEvents(rootId: $rootId) {\n        seq\n        task {\n          inputs\n        }\n      }\n    }\n  "): (typeof documents)["\n    subscription EventInputs($rootId: ID!) {\n      taskTreeEvents(rootId: $rootId) {\n        seq\n        task {\n          inputs\n        }\n      }\n    }\n  "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    subscription FullEvents($rootId: ID!, $after: ID) {\n      taskTreeEvents(rootId: $rootId, after: $after) {\n        id\n        seq\n        type\n        status\n        task {\n          name\n        }\n      }\n    }\n  "): (typeof documents)["\n    subscription FullEvents($rootId: ID!, $after: ID) {\n      taskTreeEvents(rootId: $rootId, after: $after) {\n        id\n        seq\n        type\n        status\n        task {\n          name\n        }\n      }\n    }\n  "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    subscription TaskStatusChanged($id: ID!) {\n      taskStatusChanged(id: $id) {\n        id\n        status\n        progress\n      }\n    }\n  "): (typeof documents)["\n    subscription TaskStatusChanged($id: ID!) {\n      taskStatusChanged(id: $id) {\n        id\n        status\n        progress\n      }\n    }\n  "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    subscription TreeEvents($rootId: ID!, $after: ID) {\n      taskTreeEvents(rootId: $rootId, after: $after) {\n        id\n        seq\n        type\n        status\n        task {\n          name\n        }\n      }\n    }\n  "): (typeof documents)["\n    subscription TreeEvents($rootId: ID!, $after: ID) {\n      taskTreeEvents(rootId: $rootId, after: $after) {\n        id\n        seq\n        type\n        status\n        task {\n          name\n        }\n      }\n    }\n  "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    subscription RootProgress($id: ID!) {\n      taskStatusChanged(id: $id) {\n        status\n        rollup {\n          completed\n          total\n        }\n      }\n    }\n  "): (typeof documents)["\n    subscription RootProgress($id: ID!) {\n      taskStatusChanged(id: $id) {\n        status\n        rollup {\n          completed\n          total\n        }\n      }\n    }\n  "];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;