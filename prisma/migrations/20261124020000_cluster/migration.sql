-- CreateTable
CREATE TABLE "cluster_nodes" (
    "id" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "executors" TEXT[],
    "tags" TEXT[],
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "api_url" TEXT,
    "running" INTEGER NOT NULL DEFAULT 0,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeat_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cluster_nodes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "cluster_leader" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "node_id" TEXT NOT NULL,
    "term" BIGINT NOT NULL,
    "lease_expires_at" TIMESTAMPTZ(3) NOT NULL,
    "acquired_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cluster_leader_pkey" PRIMARY KEY ("id")
);


-- Hand-written below: what Prisma's schema language cannot express.
ALTER TABLE "cluster_leader" ADD CONSTRAINT "cluster_leader_single_row" CHECK ("id" = 1);
ALTER TABLE "cluster_nodes" ADD CONSTRAINT "cluster_nodes_role_check" CHECK ("role" IN ('auto', 'leader', 'worker', 'observer'));
