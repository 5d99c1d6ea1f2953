! heat_fortran: an HPC code that trains a neural surrogate of its own solution online
! (docs/coupling.md walks through it).
!
! The solver: u_t = alpha (u_xx + u_yy) on [0,1]^2, u = 0 on the sides,
! u(x, y, 0) = sin(pi x) sin(pi y) + 0.5 sin(2 pi x) sin(3 pi y), explicit finite
! differences (5-point Laplacian, forward Euler, dt = 0.2 h^2 / alpha) on n x n nodes,
! node (i, j) at (i h, j h), i, j = 0 .. n-1. The rows j = 1 .. n-2 are split into
! contiguous blocks over the MPI ranks; each rank keeps one halo row on either side and
! exchanges them with its neighbours every step (MPI_Sendrecv).
!
! The coupling: every EVERY steps each rank hands kpde a snapshot of its rows (every SUB-th
! node in x and y) as points (x, y, t) with values u, appends them to its training set,
! and runs ADAM_STEPS supervised Adam steps of the surrogate u(x, y, t) on it
! (kpde_model_train_supervised over MPI_COMM_WORLD: the loss is the mean over every rank's
! points). At the end it trains FINAL_STEPS more, then reports the surrogate's relative L2
! error against the simulation on every node at t = T/2 and t = T, and the time spent in
! kpde and in the solver.
!
! Usage: mpirun -n 2 coupling_heat_fortran heat.yaml
program heat
  use mpi
  use kpde
  use, intrinsic :: iso_c_binding, only: c_double
  implicit none
  integer, parameter :: n = 129, EVERY = 64, SUB = 8, ADAM_STEPS = 40, FINAL_STEPS = 2000
  real(c_double), parameter :: alpha = 0.1d0, t_end = 0.2d0, pi = acos(-1.0d0)
  real(c_double), allocatable :: u(:, :), un(:, :), u_half(:, :), xs(:, :), us(:), xe(:, :), ue(:, :)
  real(c_double) :: h, dt, r, t, loss, t0, t_solver, t_kpde, err_half, err_end
  integer :: rank, n_ranks, ierr, j0, j1, n_steps, step, n_snap, capacity, k
  character(len=512) :: config
  type(kpde_model) :: model

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, n_ranks, ierr)
  call get_command_argument(1, config)
  ! this rank's rows j0 .. j1 of the interior rows 1 .. n-2
  j0 = 1 + (rank * (n - 2)) / n_ranks
  j1 = ((rank + 1) * (n - 2)) / n_ranks
  allocate(u(0:n - 1, j0 - 1:j1 + 1), un(0:n - 1, j0 - 1:j1 + 1), u_half(0:n - 1, j0:j1))
  h = 1.0d0 / (n - 1)
  dt = 0.2d0 * h * h / alpha
  n_steps = nint(t_end / dt)
  dt = t_end / n_steps
  r = alpha * dt / (h * h)
  call initial(u)
  un = 0

  ! kpde after MPI: it leaves MPI to this code. One Kokkos thread per rank.
  call check(kpde_init(1))
  call check(kpde_model_from_config(trim(config), MPI_COMM_WORLD, model))
  capacity = (n / SUB + 1) * ((j1 - j0) / SUB + 2) * (n_steps / EVERY + 2)
  allocate(xs(3, capacity), us(capacity))
  n_snap = 0
  t_solver = 0
  t_kpde = 0

  t = 0
  do step = 0, n_steps
    if (mod(step, EVERY) == 0) then            ! hand the snapshot to kpde, train online
      t0 = MPI_Wtime()
      call snapshot(u, t)
      do k = 1, ADAM_STEPS
        call check(kpde_model_train_supervised(model, xs(:, 1:n_snap), us(1:n_snap), loss))
      end do
      t_kpde = t_kpde + (MPI_Wtime() - t0)
    end if
    if (step == n_steps / 2) u_half = u(:, j0:j1)
    if (step == n_steps) exit
    t0 = MPI_Wtime()
    call exchange(u)
    un(1:n - 2, j0:j1) = u(1:n - 2, j0:j1) + r * (u(2:n - 1, j0:j1) + u(0:n - 3, j0:j1) + &
                         u(1:n - 2, j0 + 1:j1 + 1) + u(1:n - 2, j0 - 1:j1 - 1) - 4 * u(1:n - 2, j0:j1))
    u(:, j0:j1) = un(:, j0:j1)
    t = (step + 1) * dt
    t_solver = t_solver + (MPI_Wtime() - t0)
  end do

  t0 = MPI_Wtime()
  call check(kpde_model_set_learning_rate(model, 1.0d-3))
  do k = 1, FINAL_STEPS
    if (k == FINAL_STEPS / 2) call check(kpde_model_set_learning_rate(model, 3.0d-4))
    call check(kpde_model_train_supervised(model, xs(:, 1:n_snap), us(1:n_snap), loss))
  end do
  err_half = surrogate_error(u_half, (n_steps / 2) * dt)
  err_end = surrogate_error(u(:, j0:j1), t_end)
  t_kpde = t_kpde + (MPI_Wtime() - t0)
  call MPI_Allreduce(MPI_IN_PLACE, t_kpde, 1, MPI_DOUBLE_PRECISION, MPI_MAX, MPI_COMM_WORLD, ierr)
  call MPI_Allreduce(MPI_IN_PLACE, t_solver, 1, MPI_DOUBLE_PRECISION, MPI_MAX, MPI_COMM_WORLD, ierr)
  k = n_snap
  call MPI_Allreduce(MPI_IN_PLACE, k, 1, MPI_INTEGER, MPI_SUM, MPI_COMM_WORLD, ierr)
  if (rank == 0) then
    print '(a,i0,a,i0,a,i0,a,i0,a,i0,a)', 'heat_fortran: ', n_ranks, ' ranks, ', n, ' x ', n, ' nodes, ', n_steps, &
      ' steps; ', k, ' snapshot points over all ranks'
    print '(a,f5.3,a,es9.2,a,f5.3,a,es9.2)', 'heat_fortran: surrogate rel. L2 error at t = ', &
      (n_steps / 2) * dt, ': ', err_half, '; at t = ', t_end, ': ', err_end
    print '(a,f7.3,a,f7.3,a,es9.2)', 'heat_fortran: time in kpde ', t_kpde, ' s, in the solver ', t_solver, &
      ' s; final training loss ', loss
  end if
  call check(kpde_model_free(model))
  call check(kpde_finalize())
  call MPI_Finalize(ierr)
  if (.not. (err_end < 0.05d0 .and. err_half < 0.05d0)) stop 1

contains

  subroutine initial(v)
    real(c_double), intent(out) :: v(0:, j0 - 1:)
    integer :: i, j
    v = 0
    do j = j0, j1
      do i = 1, n - 2
        v(i, j) = sin(pi * i * h) * sin(pi * j * h) + 0.5d0 * sin(2 * pi * i * h) * sin(3 * pi * j * h)
      end do
    end do
  end subroutine

  !> Halo rows from the neighbours (none beyond the sides: the boundary rows stay 0).
  subroutine exchange(v)
    real(c_double), intent(inout) :: v(0:, j0 - 1:)
    integer :: up, down, e
    up = merge(rank + 1, MPI_PROC_NULL, rank + 1 < n_ranks)
    down = merge(rank - 1, MPI_PROC_NULL, rank > 0)
    call MPI_Sendrecv(v(:, j1), n, MPI_DOUBLE_PRECISION, up, 1, v(:, j0 - 1), n, MPI_DOUBLE_PRECISION, down, 1, &
                      MPI_COMM_WORLD, MPI_STATUS_IGNORE, e)
    call MPI_Sendrecv(v(:, j0), n, MPI_DOUBLE_PRECISION, down, 2, v(:, j1 + 1), n, MPI_DOUBLE_PRECISION, up, 2, &
                      MPI_COMM_WORLD, MPI_STATUS_IGNORE, e)
  end subroutine

  !> Appends every SUB-th node of this rank's rows at time tt to the training set
  !> xs(3, :) = (x, y, t), us(:) = u.
  subroutine snapshot(v, tt)
    real(c_double), intent(in) :: v(0:, j0 - 1:), tt
    integer :: i, j
    do j = j0, j1
      if (mod(j, SUB) /= 0) cycle
      do i = 0, n - 1, SUB
        n_snap = n_snap + 1
        xs(:, n_snap) = [i * h, j * h, tt]
        us(n_snap) = v(i, j)
      end do
    end do
  end subroutine

  !> ||u_surrogate - u_simulation|| / ||u_simulation|| over every node of every rank at time tt.
  function surrogate_error(v, tt) result(err)
    real(c_double), intent(in) :: v(0:, j0:), tt
    real(c_double) :: err, sums(2)
    integer :: i, j, p, e
    if (allocated(xe)) deallocate(xe, ue)
    allocate(xe(3, n * (j1 - j0 + 1)), ue(1, n * (j1 - j0 + 1)))
    p = 0
    do j = j0, j1
      do i = 0, n - 1
        p = p + 1
        xe(:, p) = [i * h, j * h, tt]
      end do
    end do
    call check(kpde_model_eval(model, xe, KPDE_U, ue))
    sums = 0
    p = 0
    do j = j0, j1
      do i = 0, n - 1
        p = p + 1
        sums(1) = sums(1) + (ue(1, p) - v(i, j))**2
        sums(2) = sums(2) + v(i, j)**2
      end do
    end do
    call MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE_PRECISION, MPI_SUM, MPI_COMM_WORLD, e)
    err = sqrt(sums(1) / sums(2))
  end function

  subroutine check(status)
    integer, intent(in) :: status
    integer :: e
    if (status /= KPDE_OK) then
      print '(a,i0,a,i0,2a)', 'heat_fortran: rank ', rank, ': status ', status, ': ', kpde_last_error()
      call MPI_Abort(MPI_COMM_WORLD, 1, e)
    end if
  end subroutine

end program heat
