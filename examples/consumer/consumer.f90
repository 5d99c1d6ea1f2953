! Fortran consumer of the installed kpde (use kpde): the model the C consumer saved,
! evaluated at x(2, n) with derivatives, supervised steps towards the exact solution over
! MPI_COMM_WORLD, and a bad call's status and message. Usage: consumer_fortran MODEL.h5
program consumer
  use mpi
  use kpde
  use, intrinsic :: iso_c_binding, only: c_double, c_int64_t
  implicit none
  integer, parameter :: n = 64
  type(kpde_model) :: m
  real(c_double) :: x(2, n), out(3, n), target(n), loss0, loss
  real(c_double), parameter :: pi = acos(-1.0d0)
  integer(c_int64_t) :: n_params
  character(len=512) :: path
  integer :: ierr, p, k, status

  call MPI_Init(ierr)
  call get_command_argument(1, path)
  call check(kpde_init(0))
  call check(kpde_model_from_file(trim(path), MPI_COMM_WORLD, m))
  call check(kpde_model_n_params(m, n_params))
  do p = 1, n
    x(1, p) = -0.9d0 + 1.8d0 * mod(p * 0.618034d0, 1.0d0)
    x(2, p) = -0.9d0 + 1.8d0 * mod(p * 0.754878d0, 1.0d0)
    target(p) = sin(pi * x(1, p)) * sin(pi * x(2, p))
  end do
  call check(kpde_model_eval(m, x, ior(KPDE_U, ior(KPDE_U_X, KPDE_U_Y)), out))
  call check(kpde_model_train_supervised(m, x, target, loss0))
  do k = 1, 50
    call check(kpde_model_train_supervised(m, x, target, loss))
  end do
  ! a bad call: out has 3 rows, KPDE_U asks for 1
  status = kpde_model_eval(m, x, KPDE_U, out)
  if (status /= KPDE_ERR_INPUT) stop 1
  print '(a,i0,a,es10.3,a,es10.3)', 'consumer_fortran: ', n_params, ' parameters, supervised loss ', loss0, &
    ' -> ', loss
  print '(2a)', 'consumer_fortran: bad call said: ', kpde_last_error()
  call check(kpde_model_free(m))
  call check(kpde_finalize())
  call MPI_Finalize(ierr)
  if (.not. loss < loss0) stop 1

contains

  subroutine check(status)
    integer, intent(in) :: status
    if (status /= KPDE_OK) then
      print '(a,i0,2a)', 'consumer_fortran: status ', status, ': ', kpde_last_error()
      stop 1
    end if
  end subroutine

end program consumer
