! The Fortran module `kpde` over the C API (kpde.h), through iso_c_binding.
!
! The same calls as the C API, as integer functions returning the status (KPDE_OK = 0,
! KPDE_ERR_RUNTIME = 1, KPDE_ERR_INPUT = 2, KPDE_ERR_HANDLE = 3); kpde_last_error() gives
! the message of the last failure. Arrays are assumed-shape and column-major:
!   points x(dim, n)     (the C API's row-major x[n][dim]: the same memory, no copy)
!   results out(q, n)    (q = kpde_quantity_count of the quantity mask)
! Non-contiguous sections are copied in (and out) by the compiler. The communicator is the
! Fortran integer handle (MPI_COMM_WORLD of `use mpi`, or comm%MPI_VAL of `use mpi_f08`).
! Thread safety as in kpde.h: calls are serialised; call from the thread of kpde_init.
module kpde
  use, intrinsic :: iso_c_binding
  implicit none
  private

  integer, parameter, public :: KPDE_OK = 0, KPDE_ERR_RUNTIME = 1, KPDE_ERR_INPUT = 2, KPDE_ERR_HANDLE = 3
  integer, parameter, public :: KPDE_U = 1, KPDE_U_X = 2, KPDE_U_Y = 4, KPDE_U_Z = 8, KPDE_U_XX = 16, &
                                KPDE_U_XY = 32, KPDE_U_YY = 64, KPDE_U_XZ = 128, KPDE_U_YZ = 256, &
                                KPDE_U_ZZ = 512, KPDE_LAP = 1024

  !> A model handle (kpde_model of the C API); c_null_ptr until created, again after kpde_model_free.
  type, public :: kpde_model
    type(c_ptr) :: handle = c_null_ptr
  end type kpde_model

  public :: kpde_init, kpde_finalize, kpde_initialized, kpde_last_error, kpde_version
  public :: kpde_model_from_config, kpde_model_from_file, kpde_model_free
  public :: kpde_model_dim, kpde_model_n_params, kpde_model_time_axis, kpde_quantity_count
  public :: kpde_model_eval, kpde_model_set_learning_rate, kpde_model_train_supervised
  public :: kpde_model_train_physics, kpde_model_steps, kpde_model_get_params, kpde_model_set_params
  public :: kpde_model_save, kpde_model_save_state, kpde_model_load_state

  interface
    integer(c_int) function c_init(threads) bind(C, name="kpde_init")
      import :: c_int
      integer(c_int), value :: threads
    end function
    integer(c_int) function c_finalize() bind(C, name="kpde_finalize")
      import :: c_int
    end function
    integer(c_int) function c_initialized() bind(C, name="kpde_initialized")
      import :: c_int
    end function
    type(c_ptr) function c_last_error() bind(C, name="kpde_last_error")
      import :: c_ptr
    end function
    type(c_ptr) function c_version() bind(C, name="kpde_version")
      import :: c_ptr
    end function
    integer(c_int) function c_set_error(status, fn, message) bind(C, name="kpde_set_error")
      import :: c_int, c_char
      integer(c_int), value :: status
      character(kind=c_char), dimension(*), intent(in) :: fn, message
    end function
    integer(c_size_t) function c_strlen(s) bind(C, name="strlen")
      import :: c_size_t, c_ptr
      type(c_ptr), value :: s
    end function
    integer(c_int) function c_from_config(path, comm, model) bind(C, name="kpde_model_from_config_f")
      import :: c_int, c_char, c_ptr
      character(kind=c_char), dimension(*), intent(in) :: path
      integer(c_int), value :: comm
      type(c_ptr), intent(out) :: model
    end function
    integer(c_int) function c_from_file(path, comm, model) bind(C, name="kpde_model_from_file_f")
      import :: c_int, c_char, c_ptr
      character(kind=c_char), dimension(*), intent(in) :: path
      integer(c_int), value :: comm
      type(c_ptr), intent(out) :: model
    end function
    integer(c_int) function c_free(model) bind(C, name="kpde_model_free")
      import :: c_int, c_ptr
      type(c_ptr), intent(inout) :: model
    end function
    integer(c_int) function c_dim(model, dim) bind(C, name="kpde_model_dim")
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), intent(out) :: dim
    end function
    integer(c_int) function c_time_axis(model, axis) bind(C, name="kpde_model_time_axis")
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), intent(out) :: axis
    end function
    integer(c_int) function c_n_params(model, n) bind(C, name="kpde_model_n_params")
      import :: c_int, c_ptr, c_int64_t
      type(c_ptr), value :: model
      integer(c_int64_t), intent(out) :: n
    end function
    integer(c_int) function c_steps(model, n) bind(C, name="kpde_model_steps")
      import :: c_int, c_ptr, c_int64_t
      type(c_ptr), value :: model
      integer(c_int64_t), intent(out) :: n
    end function
    integer(c_int) function c_quantity_count(q, count) bind(C, name="kpde_quantity_count")
      import :: c_int
      integer(c_int), value :: q
      integer(c_int), intent(out) :: count
    end function
    integer(c_int) function c_eval(model, n, x, q, out) bind(C, name="kpde_model_eval")
      import :: c_int, c_ptr, c_int64_t, c_double
      type(c_ptr), value :: model
      integer(c_int64_t), value :: n
      real(c_double), dimension(*), intent(in) :: x
      integer(c_int), value :: q
      real(c_double), dimension(*), intent(inout) :: out
    end function
    integer(c_int) function c_set_lr(model, lr) bind(C, name="kpde_model_set_learning_rate")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: model
      real(c_double), value :: lr
    end function
    integer(c_int) function c_train_supervised(model, n, x, target, weight, loss) &
        bind(C, name="kpde_model_train_supervised")
      import :: c_int, c_ptr, c_int64_t, c_double
      type(c_ptr), value :: model
      integer(c_int64_t), value :: n
      real(c_double), dimension(*), intent(in) :: x, target
      type(c_ptr), value :: weight
      real(c_double), intent(out) :: loss
    end function
    integer(c_int) function c_train_physics(model, ni, xi, nb, xb, loss) bind(C, name="kpde_model_train_physics")
      import :: c_int, c_ptr, c_int64_t, c_double
      type(c_ptr), value :: model
      integer(c_int64_t), value :: ni, nb
      type(c_ptr), value :: xi, xb
      real(c_double), intent(out) :: loss
    end function
    integer(c_int) function c_get_params(model, n, p) bind(C, name="kpde_model_get_params")
      import :: c_int, c_ptr, c_int64_t, c_double
      type(c_ptr), value :: model
      integer(c_int64_t), value :: n
      real(c_double), dimension(*), intent(inout) :: p
    end function
    integer(c_int) function c_set_params(model, n, p) bind(C, name="kpde_model_set_params")
      import :: c_int, c_ptr, c_int64_t, c_double
      type(c_ptr), value :: model
      integer(c_int64_t), value :: n
      real(c_double), dimension(*), intent(in) :: p
    end function
    integer(c_int) function c_save(model, path) bind(C, name="kpde_model_save")
      import :: c_int, c_ptr, c_char
      type(c_ptr), value :: model
      character(kind=c_char), dimension(*), intent(in) :: path
    end function
    integer(c_int) function c_save_state(model, path) bind(C, name="kpde_model_save_state")
      import :: c_int, c_ptr, c_char
      type(c_ptr), value :: model
      character(kind=c_char), dimension(*), intent(in) :: path
    end function
    integer(c_int) function c_load_state(model, path) bind(C, name="kpde_model_load_state")
      import :: c_int, c_ptr, c_char
      type(c_ptr), value :: model
      character(kind=c_char), dimension(*), intent(in) :: path
    end function
  end interface

contains

  !> A C string as a Fortran string.
  function from_c(p) result(s)
    type(c_ptr), intent(in) :: p
    character(len=:), allocatable :: s
    character(kind=c_char), pointer :: chars(:)
    integer :: i, n
    n = int(c_strlen(p))
    call c_f_pointer(p, chars, [n])
    allocate(character(len=n) :: s)
    do i = 1, n
      s(i:i) = chars(i)
    end do
  end function

  !> A Fortran string as a NUL-terminated C string (trailing blanks removed).
  function to_c(s) result(c)
    character(len=*), intent(in) :: s
    character(kind=c_char, len=len_trim(s) + 1) :: c
    c = trim(s) // c_null_char
  end function

  !> Records a Fortran-side argument error as the last error: status KPDE_ERR_INPUT.
  integer function bad_input(fn, message) result(status)
    character(len=*), intent(in) :: fn, message
    status = c_set_error(KPDE_ERR_INPUT, to_c(fn), to_c(message))
  end function

  integer function kpde_init(threads) result(status)
    integer, intent(in) :: threads  !< Kokkos host threads (0: automatic)
    status = c_init(int(threads, c_int))
  end function

  integer function kpde_finalize() result(status)
    status = c_finalize()
  end function

  logical function kpde_initialized()
    kpde_initialized = c_initialized() == 1
  end function

  function kpde_last_error() result(message)
    character(len=:), allocatable :: message
    message = from_c(c_last_error())
  end function

  function kpde_version() result(version)
    character(len=:), allocatable :: version
    version = from_c(c_version())
  end function

  integer function kpde_model_from_config(path, comm, model) result(status)
    character(len=*), intent(in) :: path
    integer, intent(in) :: comm        !< a Fortran MPI communicator (MPI_COMM_WORLD, ...)
    type(kpde_model), intent(out) :: model
    status = c_from_config(to_c(path), int(comm, c_int), model%handle)
  end function

  integer function kpde_model_from_file(path, comm, model) result(status)
    character(len=*), intent(in) :: path
    integer, intent(in) :: comm
    type(kpde_model), intent(out) :: model
    status = c_from_file(to_c(path), int(comm, c_int), model%handle)
  end function

  integer function kpde_model_free(model) result(status)
    type(kpde_model), intent(inout) :: model
    status = c_free(model%handle)
  end function

  integer function kpde_model_dim(model, dim) result(status)
    type(kpde_model), intent(in) :: model
    integer, intent(out) :: dim
    integer(c_int) :: d
    status = c_dim(model%handle, d)
    dim = int(d)
  end function

  integer function kpde_model_time_axis(model, axis) result(status)
    type(kpde_model), intent(in) :: model
    integer, intent(out) :: axis       !< 0-based axis (as in the C API), -1: none
    integer(c_int) :: a
    status = c_time_axis(model%handle, a)
    axis = int(a)
  end function

  integer function kpde_model_n_params(model, n) result(status)
    type(kpde_model), intent(in) :: model
    integer(c_int64_t), intent(out) :: n
    status = c_n_params(model%handle, n)
  end function

  integer function kpde_model_steps(model, n) result(status)
    type(kpde_model), intent(in) :: model
    integer(c_int64_t), intent(out) :: n
    status = c_steps(model%handle, n)
  end function

  integer function kpde_quantity_count(quantities, count) result(status)
    integer, intent(in) :: quantities
    integer, intent(out) :: count
    integer(c_int) :: c
    status = c_quantity_count(int(quantities, c_int), c)
    count = int(c)
  end function

  !> out(:, p) = the quantities at point x(:, p); x(dim, n), out(q, n).
  integer function kpde_model_eval(model, x, quantities, out) result(status)
    type(kpde_model), intent(in) :: model
    real(c_double), intent(in), contiguous :: x(:, :)
    integer, intent(in) :: quantities
    real(c_double), intent(inout), contiguous :: out(:, :)
    integer :: d, q
    character(len=160) :: why
    status = kpde_model_dim(model, d)
    if (status /= KPDE_OK) return
    status = kpde_quantity_count(quantities, q)
    if (status /= KPDE_OK) return
    if (size(x, 1) /= d .or. size(out, 1) /= q .or. size(out, 2) /= size(x, 2)) then
      write(why, '(a,i0,a,i0,a,i0,a,i0,a,i0,a,i0,a)') 'x(', size(x, 1), ', ', size(x, 2), ') and out(', &
        size(out, 1), ', ', size(out, 2), '); expected x(dim = ', d, ', n) and out(q = ', q, ', n)'
      status = bad_input('kpde_model_eval', trim(why))
      return
    end if
    status = c_eval(model%handle, int(size(x, 2), c_int64_t), x, int(quantities, c_int), out)
  end function

  integer function kpde_model_set_learning_rate(model, lr) result(status)
    type(kpde_model), intent(in) :: model
    real(c_double), intent(in) :: lr
    status = c_set_lr(model%handle, lr)
  end function

  !> One Adam step on (1/N) sum_p w_p (u(x(:,p)) - target(p))^2 over all ranks' points;
  !> x(dim, n), target(n), weight(n) (absent: 1). loss: the loss before the step.
  integer function kpde_model_train_supervised(model, x, target, loss, weight) result(status)
    type(kpde_model), intent(in) :: model
    real(c_double), intent(in), contiguous :: x(:, :), target(:)
    real(c_double), intent(out), optional :: loss
    real(c_double), intent(in), contiguous, optional, target :: weight(:)
    real(c_double) :: l
    type(c_ptr) :: w
    integer :: d
    character(len=160) :: why
    status = kpde_model_dim(model, d)
    if (status /= KPDE_OK) return
    if (size(x, 1) /= d .or. size(target) /= size(x, 2)) then
      write(why, '(a,i0,a,i0,a,i0,a,i0,a)') 'x(', size(x, 1), ', ', size(x, 2), ') and target(', size(target), &
        '); expected x(dim = ', d, ', n) and target(n)'
      status = bad_input('kpde_model_train_supervised', trim(why))
      return
    end if
    w = c_null_ptr
    if (present(weight)) then
      if (size(weight) /= size(x, 2)) then
        write(why, '(a,i0,a,i0,a)') 'weight(', size(weight), '); expected weight(n = ', size(x, 2), ')'
        status = bad_input('kpde_model_train_supervised', trim(why))
        return
      end if
      if (size(weight) > 0) w = c_loc(weight(1))
    end if
    status = c_train_supervised(model%handle, int(size(x, 2), c_int64_t), x, target, w, l)
    if (present(loss)) loss = l
  end function

  !> One Adam step on the config's physics-informed loss: interior points x_interior(dim, n),
  !> boundary points x_boundary(dim, m) (their parts and normals found by kpde), or, without
  !> x_boundary, n_boundary points drawn by kpde on the constrained parts.
  integer function kpde_model_train_physics(model, x_interior, loss, x_boundary, n_boundary) result(status)
    type(kpde_model), intent(in) :: model
    real(c_double), intent(in), contiguous, target :: x_interior(:, :)
    real(c_double), intent(out), optional :: loss
    real(c_double), intent(in), contiguous, optional, target :: x_boundary(:, :)
    integer, intent(in), optional :: n_boundary
    real(c_double) :: l
    type(c_ptr) :: xi, xb
    integer(c_int64_t) :: nb
    integer :: d
    character(len=160) :: why
    status = kpde_model_dim(model, d)
    if (status /= KPDE_OK) return
    if (size(x_interior, 1) /= d) then
      write(why, '(a,i0,a,i0,a)') 'x_interior(', size(x_interior, 1), ', :); expected x_interior(dim = ', d, ', n)'
      status = bad_input('kpde_model_train_physics', trim(why))
      return
    end if
    xi = c_null_ptr
    if (size(x_interior) > 0) xi = c_loc(x_interior(1, 1))
    xb = c_null_ptr
    nb = 0
    if (present(x_boundary)) then
      if (size(x_boundary, 1) /= d) then
        write(why, '(a,i0,a,i0,a)') 'x_boundary(', size(x_boundary, 1), ', :); expected x_boundary(dim = ', d, ', m)'
        status = bad_input('kpde_model_train_physics', trim(why))
        return
      end if
      nb = size(x_boundary, 2)
      if (nb > 0) xb = c_loc(x_boundary(1, 1))
    else if (present(n_boundary)) then
      nb = n_boundary
    end if
    status = c_train_physics(model%handle, int(size(x_interior, 2), c_int64_t), xi, nb, xb, l)
    if (present(loss)) loss = l
  end function

  integer function kpde_model_get_params(model, params) result(status)
    type(kpde_model), intent(in) :: model
    real(c_double), intent(inout), contiguous :: params(:)
    status = c_get_params(model%handle, int(size(params), c_int64_t), params)
  end function

  integer function kpde_model_set_params(model, params) result(status)
    type(kpde_model), intent(in) :: model
    real(c_double), intent(in), contiguous :: params(:)
    status = c_set_params(model%handle, int(size(params), c_int64_t), params)
  end function

  integer function kpde_model_save(model, path) result(status)
    type(kpde_model), intent(in) :: model
    character(len=*), intent(in) :: path
    status = c_save(model%handle, to_c(path))
  end function

  integer function kpde_model_save_state(model, path) result(status)
    type(kpde_model), intent(in) :: model
    character(len=*), intent(in) :: path
    status = c_save_state(model%handle, to_c(path))
  end function

  integer function kpde_model_load_state(model, path) result(status)
    type(kpde_model), intent(in) :: model
    character(len=*), intent(in) :: path
    status = c_load_state(model%handle, to_c(path))
  end function

end module kpde
