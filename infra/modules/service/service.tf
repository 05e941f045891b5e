resource "aws_ecs_service" "api" {
  #checkov:skip=CKV_AWS_333:Public IPs only with var.assign_public_ip (staging: no NAT, no interface endpoints, to save their ~$35-64 a month); the tasks' security group admits the app port from the ALB's group only, so nothing reaches them from the internet.
  name             = "${var.name_prefix}-api"
  cluster          = aws_ecs_cluster.this.id
  task_definition  = aws_ecs_task_definition.this["api"].arn
  desired_count    = var.desired_count
  platform_version = "LATEST" # 1.4.0: FARGATE_SPOT takes ARM64 tasks from 1.4.0 on

  # On-demand Fargate for the base (production: its minimum, so the floor never waits for Spot capacity), Spot for
  # every task above it (staging: all of them). A Spot task gets SIGTERM two minutes before it is reclaimed; the
  # service drains within its grace period, well inside that (docs/operations.md#spot-interruptions-and-the-drain).
  # With ECS's own BLUE_GREEN strategy (no CodeDeploy controller) the strategy applies to green's tasks as to blue's.
  # A capacity provider strategy instead of launch_type: the provider replaces a service that switches from one
  # to the other (an empty strategy set to a non-empty one forces a new service).
  capacity_provider_strategy {
    capacity_provider = "FARGATE"
    base              = var.capacity.on_demand_base
    weight            = var.capacity.spot ? 0 : 1
  }

  dynamic "capacity_provider_strategy" {
    for_each = var.capacity.spot ? [1] : []
    content {
      capacity_provider = "FARGATE_SPOT"
      weight            = 1
    }
  }

  # Blue/green (ECS's own strategy, no CodeDeploy): a deployment starts the new revision at full size in the idle
  # target group (green), points the test listener rule at it, then moves the production listener rule to it in one
  # step and keeps blue running for the bake time. The circuit breaker or any deployment alarm firing before the
  # bake ends moves production back to blue at once (ROLLBACK_*); afterwards blue drains and stops (SUCCESSFUL).
  # Capacity therefore doubles during a deploy: maximum 200 %, never below the desired count.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = local.health_check_grace_seconds # the warm-up's bound + 60 s (task_definitions.tf)
  enable_execute_command             = false
  propagate_tags                     = "SERVICE"

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [var.tasks_security_group_id]
    assign_public_ip = var.assign_public_ip
  }

  deployment_configuration {
    strategy             = "BLUE_GREEN"
    bake_time_in_minutes = tostring(var.bake_time_minutes)
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = "api"
    container_port   = var.container_port

    advanced_configuration {
      alternate_target_group_arn = var.blue_green.alternate_target_group_arn
      production_listener_rule   = var.blue_green.production_listener_rule_arn
      test_listener_rule         = var.blue_green.test_listener_rule_arn
      role_arn                   = aws_iam_role.ecs_infrastructure.arn
    }
  }

  # A deployment whose tasks keep failing to start or to become healthy is stopped and rolled back.
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # Also roll back when these CloudWatch alarms fire during a deployment, bake time included (target 5xx rate, p99
  # response time, unhealthy hosts).
  dynamic "alarms" {
    for_each = length(var.deployment_alarm_names) > 0 ? [1] : []
    content {
      alarm_names = var.deployment_alarm_names
      enable      = true
      rollback    = true
    }
  }

  lifecycle {
    # The deploy workflow owns the running revision (it registers a task definition with the new image and updates
    # the service); Terraform would otherwise roll the service back to its own revision on every apply.
    # desired_count belongs to Application Auto Scaling once the service exists.
    ignore_changes = [task_definition, desired_count]
  }

  # The infrastructure role must be able to move the listener rules before the first deployment starts; the
  # capacity providers must be the cluster's before a strategy names them.
  depends_on = [aws_iam_role_policy.execution, aws_iam_role_policy.ecs_infrastructure, aws_ecs_cluster_capacity_providers.this]
}

# --- Autoscaling ------------------------------------------------------------------------------------------------

resource "aws_appautoscaling_target" "api" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.api.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_count
  max_capacity       = var.max_count
}

# --- Scheduled sleep (var.schedule) -----------------------------------------------------------------------------
# At sleep_at the service's bounds become 0..0, so Application Auto Scaling sets its desired count to 0 and the
# target tracking policies cannot start a task; at wake_at the bounds return and the service starts min_count tasks.
# The deploy workflow wakes a sleeping service before a release (.github/scripts/ecs-wake-service.sh, which reads
# the wake action's bounds by its name, <service>-wake). The database (Aurora, min 0 ACU) pauses by itself once the
# last connection is gone.

locals {
  schedule_cron = var.schedule == null ? {} : {
    for when, at in { wake = var.schedule.wake_at, sleep = var.schedule.sleep_at } :
    when => "cron(${tonumber(split(":", at)[1])} ${tonumber(split(":", at)[0])} ? * ${var.schedule.days} *)"
  }
}

resource "aws_appautoscaling_scheduled_action" "sleep" {
  count = var.schedule == null ? 0 : 1

  name               = "${aws_ecs_service.api.name}-sleep"
  service_namespace  = aws_appautoscaling_target.api.service_namespace
  resource_id        = aws_appautoscaling_target.api.resource_id
  scalable_dimension = aws_appautoscaling_target.api.scalable_dimension
  schedule           = local.schedule_cron.sleep
  timezone           = var.schedule.timezone

  scalable_target_action {
    min_capacity = 0
    max_capacity = 0
  }
}

resource "aws_appautoscaling_scheduled_action" "wake" {
  count = var.schedule == null ? 0 : 1

  name               = "${aws_ecs_service.api.name}-wake"
  service_namespace  = aws_appautoscaling_target.api.service_namespace
  resource_id        = aws_appautoscaling_target.api.resource_id
  scalable_dimension = aws_appautoscaling_target.api.scalable_dimension
  schedule           = local.schedule_cron.wake
  timezone           = var.schedule.timezone

  scalable_target_action {
    min_capacity = var.min_count
    max_capacity = var.max_count
  }

  # One scheduled action at a time per scalable target (the API serialises them).
  depends_on = [aws_appautoscaling_scheduled_action.sleep]
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name_prefix}-api-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.api.service_namespace
  resource_id        = aws_appautoscaling_target.api.resource_id
  scalable_dimension = aws_appautoscaling_target.api.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "memory" {
  name               = "${var.name_prefix}-api-memory"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.api.service_namespace
  resource_id        = aws_appautoscaling_target.api.resource_id
  scalable_dimension = aws_appautoscaling_target.api.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.memory_target_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageMemoryUtilization"
    }
  }
}

# Requests per task. ALBRequestCountPerTarget would name one target group, and blue/green moves the tasks between
# two at every deploy, so the metric is computed from the load balancer's requests and the service's running tasks
# (Container Insights) and follows the tasks whichever group holds them. Without Container Insights
# (var.container_insights = "disabled", staging) that metric does not exist, so neither does this policy.
resource "aws_appautoscaling_policy" "requests" {
  count = var.container_insights == "disabled" ? 0 : 1

  name               = "${var.name_prefix}-api-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.api.service_namespace
  resource_id        = aws_appautoscaling_target.api.resource_id
  scalable_dimension = aws_appautoscaling_target.api.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.requests_per_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    customized_metric_specification {
      metrics {
        id          = "per_task"
        expression  = "requests / tasks"
        label       = "Requests per api task per minute"
        return_data = true
      }

      metrics {
        id          = "requests"
        return_data = false
        metric_stat {
          stat = "Sum"
          metric {
            namespace   = "AWS/ApplicationELB"
            metric_name = "RequestCount"
            dimensions {
              name  = "LoadBalancer"
              value = var.alb_arn_suffix
            }
          }
        }
      }

      metrics {
        id          = "tasks"
        return_data = false
        metric_stat {
          stat = "Average"
          metric {
            namespace   = "ECS/ContainerInsights"
            metric_name = "RunningTaskCount"
            dimensions {
              name  = "ClusterName"
              value = aws_ecs_cluster.this.name
            }
            dimensions {
              name  = "ServiceName"
              value = aws_ecs_service.api.name
            }
          }
        }
      }
    }
  }
}
